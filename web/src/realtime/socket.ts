// The socket seam and the request/reply bookkeeping of the realtime client:
// what the browser's WebSocket must offer, the errors a request can end
// with, the reconnect backoff, and the table of requests awaiting replies.
import type { Reply } from '../api/types';

/** The part of the browser WebSocket the client uses (a fake in tests). */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

/** ReplyError is a server's refusal of one request. */
export class ReplyError extends Error {
  readonly code: string;
  /** For rate_limited: when the server will take the next operation. */
  readonly retryAfterMs?: number;
  constructor(code: string, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'ReplyError';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

/** ConnectionLost rejects requests whose connection closed before the reply. */
export class ConnectionLost extends Error {
  constructor() {
    super('The connection was lost.');
    this.name = 'ConnectionLost';
  }
}

/** Errors after which a request is worth trying again later. */
export const TRANSIENT = new Set(['rate_limited', 'unavailable', 'internal']);

/** RequestFn sends one operation over the connection and resolves with its reply. */
export type RequestFn = (op: string, fields?: Record<string, unknown>, timeoutMs?: number) => Promise<Reply>;

/**
 * backoffDelay is the wait before reconnect attempt n (1-based): exponential
 * from base up to max, with "equal jitter" (half fixed, half random) so that
 * many clients dropped at once do not come back at once.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs = 500, maxMs = 30_000): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** detach stops a socket from reaching the client (it is being given up). */
export function detach(ws: SocketLike) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Replies matches replies to the requests sent on one client's sockets. */
export class Replies {
  private nextId = 1;
  private pending = new Map<string, Pending>();

  /**
   * send writes {op, id, ...fields} on ws and resolves with the reply, or
   * rejects with ReplyError (refused; 'timeout' after timeoutMs, when
   * onTimeout is also called) or ConnectionLost.
   */
  send(ws: SocketLike, op: string, fields: Record<string, unknown>, timeoutMs: number, onTimeout: () => void): Promise<Reply> {
    const id = String(this.nextId++);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new ReplyError('timeout', 'The server did not answer in time.'));
        onTimeout();
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ op, id, ...fields }));
      } catch {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new ConnectionLost());
      }
    });
  }

  /** settle delivers a reply to the request it answers (others are ignored). */
  settle(r: Reply) {
    const p = this.pending.get(String(r.re));
    if (!p) return;
    this.pending.delete(String(r.re));
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r);
    else p.reject(new ReplyError(r.error?.code ?? 'internal', r.error?.message ?? 'Request failed.', typeof r.retry_after_ms === 'number' ? r.retry_after_ms : undefined));
  }

  /** failAll rejects every request still waiting: its connection is gone. */
  failAll() {
    const pend = [...this.pending.values()];
    this.pending.clear();
    for (const p of pend) {
      clearTimeout(p.timer);
      p.reject(new ConnectionLost());
    }
  }
}
