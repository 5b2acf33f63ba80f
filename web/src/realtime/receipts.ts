// Receipts: the read and delivered marks this device wants the server to
// hold. Marks are high-water marks, so wanting them is idempotent: they are
// gathered for a moment and sent once per conversation, and kept to send
// again when the connection is lost before the server took them.
import { maxSeq, raiseOwnMarks, type ChatState } from '../state/chat';
import type { Store } from '../state/store';
import { ConnectionLost, ReplyError, TRANSIENT, type RequestFn } from './socket';

const RECEIPT_DELAY_MS = 200;

export class Receipts {
  private store: Store<ChatState>;
  private request: RequestFn;
  private online: () => boolean;
  /** Marks this client wants the server to hold: conversation → marks. */
  private wanted = new Map<number, { read: number; delivered: number }>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(store: Store<ChatState>, request: RequestFn, online: () => boolean) {
    this.store = store;
    this.request = request;
    this.online = online;
  }

  /** want queues marks for the server unless it already has them. */
  want(id: number, read: number, delivered: number) {
    const c = this.store.get().conversations[id];
    const w = this.wanted.get(id);
    const next = { read: Math.max(w?.read ?? 0, read), delivered: Math.max(w?.delivered ?? 0, delivered, read) };
    const known = c && next.read <= (c.read_seq ?? 0) && next.delivered <= (c.delivered_seq ?? 0);
    if (known && !w) return;
    this.wanted.set(id, next);
    this.schedule();
  }

  /** After a sync, push marks the server has not got yet (read while offline). */
  resend() {
    const st = this.store.get();
    for (const [k, c] of Object.entries(st.conversations)) {
      const id = Number(k);
      const held = maxSeq(st.messages[id]);
      const w = this.wanted.get(id);
      if (w || held > (c.delivered_seq ?? 0)) this.want(id, w?.read ?? 0, Math.max(held, w?.delivered ?? 0));
    }
    if (this.wanted.size) this.schedule();
  }

  /** stop cancels a pending flush (the wanted marks stay for the next sync). */
  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule() {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), RECEIPT_DELAY_MS);
  }

  private flush() {
    this.timer = null;
    if (!this.online()) return; // resend() after the next sync
    const all = [...this.wanted.entries()];
    this.wanted.clear();
    for (const [id, w] of all) {
      if (!(id in this.store.get().conversations)) continue; // left or removed meanwhile
      const fields: Record<string, unknown> = { conversation_id: id, delivered_seq: w.delivered };
      if (w.read > 0) fields.read_seq = w.read;
      this.request('receipt', fields).then(
        (r) => this.store.set((st) => raiseOwnMarks(st, id, Number(r.read_seq ?? 0), Number(r.delivered_seq ?? 0))),
        (e) => {
          if (e instanceof ConnectionLost || (e instanceof ReplyError && TRANSIENT.has(e.code))) {
            const cur = this.wanted.get(id) ?? { read: 0, delivered: 0 };
            this.wanted.set(id, { read: Math.max(cur.read, w.read), delivered: Math.max(cur.delivered, w.delivered) });
          }
        },
      );
    }
  }
}
