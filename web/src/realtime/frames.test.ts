import { describe, expect, it } from 'vitest';
import { splitFrame } from './frames';

describe('splitFrame', () => {
  it('splits newline-separated objects in order', () => {
    const out = splitFrame('{"re":"1","ok":true}\n{"ev":"synced"}\n{"ev":"presence","user_id":2,"online":true}\n');
    expect(out).toEqual([{ re: '1', ok: true }, { ev: 'synced' }, { ev: 'presence', user_id: 2, online: true }]);
  });

  it('reads a single object without a newline', () => {
    expect(splitFrame('{"ev":"synced"}')).toEqual([{ ev: 'synced' }]);
  });

  it('skips blank and broken lines and reports the broken ones', () => {
    const bad: string[] = [];
    const out = splitFrame('\n{"ev":"synced"}\r\n\nnot json\n42\n', (l) => bad.push(l));
    expect(out).toEqual([{ ev: 'synced' }]);
    expect(bad).toEqual(['not json', '42']);
  });

  it('keeps newlines inside JSON strings (they are escaped)', () => {
    const line = JSON.stringify({ ev: 'message', message: { text: 'two\nlines' } });
    expect(splitFrame(line + '\n' + line)).toHaveLength(2);
    expect((splitFrame(line)[0] as { message: { text: string } }).message.text).toBe('two\nlines');
  });
});
