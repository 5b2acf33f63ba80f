import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, setUnauthorizedHandler } from './http';

function answer(status: number, body: string, type = 'application/json') {
  return vi.fn(async () => new Response(body, { status, headers: { 'Content-Type': type } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
});

describe('suggestions over the REST client', () => {
  it('posts the prompt asking for an event stream and returns the stream', async () => {
    const fetch = answer(200, 'event: done\ndata: {}\n\n', 'text/event-stream');
    vi.stubGlobal('fetch', fetch);
    const res = await api.suggestions(7, 'hi');
    expect(await res.text()).toContain('event: done');
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/conversations/7/suggestions');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Accept).toBe('text/event-stream');
    expect(init.body).toBe('{"prompt":"hi"}');
  });

  it('ends the session on 401 like every authenticated request', async () => {
    vi.stubGlobal('fetch', answer(401, '{"error":{"code":"unauthenticated","message":"Log in first."}}'));
    const ended = vi.fn();
    setUnauthorizedHandler(ended);
    await expect(api.suggestions(7, '')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('carries the server message of a refusal, and says when there was none', async () => {
    vi.stubGlobal('fetch', answer(429, '{"error":{"code":"rate_limited","message":"Too many suggestions."}}'));
    const e = (await api.suggestions(7, '').catch((x) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect([e.code, e.message, e.generic]).toEqual(['rate_limited', 'Too many suggestions.', false]);
    vi.stubGlobal('fetch', answer(502, '<html>bad gateway</html>', 'text/html'));
    const g = (await api.suggestions(7, '').catch((x) => x)) as ApiError;
    expect([g.status, g.generic]).toEqual([502, true]);
  });
});
