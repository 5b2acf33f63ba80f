import { describe, expect, it } from 'vitest';
import { readSSE, SSEParser } from './sse';

describe('SSEParser', () => {
  it('parses events split across chunks', () => {
    const p = new SSEParser();
    const stream = 'event: suggestion\ndata: {"index":0,"text":"Hi"}\n\nevent: sugg' + 'estion\r\ndata: {"index":1,"text":"Yo"}\r\n\r\nevent: done\ndata: {"count":2}\n\n';
    const got = [];
    for (let i = 0; i < stream.length; i += 7) got.push(...p.push(stream.slice(i, i + 7)));
    got.push(...p.end());
    expect(got).toEqual([
      { event: 'suggestion', data: '{"index":0,"text":"Hi"}' },
      { event: 'suggestion', data: '{"index":1,"text":"Yo"}' },
      { event: 'done', data: '{"count":2}' },
    ]);
  });

  it('joins multi-line data, ignores comments, flushes at end', () => {
    const p = new SSEParser();
    expect(p.push(': keepalive\n\ndata: a\ndata: b\n\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
    expect(p.push('event: error\ndata: {"code":"ai_timeout"}')).toEqual([]);
    expect(p.end()).toEqual([{ event: 'error', data: '{"code":"ai_timeout"}' }]);
  });

  it('reads a fetch Response body', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        const e = new TextEncoder();
        c.enqueue(e.encode('event: suggestion\ndata: {"index":0,"text":"Sure"}\n'));
        c.enqueue(e.encode('\nevent: done\ndata: {"count":1}\n\n'));
        c.close();
      },
    });
    const got: string[] = [];
    await readSSE(new Response(body), (e) => got.push(e.event));
    expect(got).toEqual(['suggestion', 'done']);
  });
});
