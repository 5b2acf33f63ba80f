// Sender: sending what the outbox holds. Messages wait in the outbox (kept
// across reloads) until the server acknowledges them; each keeps its
// client_msg_id, so a message whose acknowledgement was lost with a
// connection is recognised by the server and not stored twice.
import type { Message, User } from '../api/types';
import { applyMessages, type ChatState } from '../state/chat';
import type { Store } from '../state/store';
import { newClientMsgId, Outbox } from './outbox';
import { ConnectionLost, ReplyError, TRANSIENT, type RequestFn } from './socket';

export class Sender {
  private store: Store<ChatState>;
  private request: RequestFn;
  private online: () => boolean;
  /** Called with a message the server acknowledged (for receipts). */
  private stored: (id: number, msgs: Message[]) => void;
  private outbox: Outbox | null = null;
  private unsub: (() => void) | null = null;
  private inFlight = new Set<string>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(store: Store<ChatState>, request: RequestFn, online: () => boolean, stored: (id: number, msgs: Message[]) => void) {
    this.store = store;
    this.request = request;
    this.online = online;
    this.stored = stored;
  }

  /** start opens the outbox of user me from storage and mirrors it into the store. */
  start(me: User, storage: Storage | null) {
    const outbox = new Outbox(storage, `parley.outbox.${me.id}`);
    this.outbox = outbox;
    this.unsub = outbox.subscribe((items) => this.store.set((s) => ({ ...s, outbox: items })));
    this.store.set((s) => ({ ...s, outbox: outbox.items() }));
  }

  /** stop closes the outbox (it stays stored) and cancels a retry. */
  stop() {
    this.stopTimer();
    this.unsub?.();
    this.unsub = null;
    this.outbox = null;
  }

  stopTimer() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** connectionLost forgets what was on its way: it goes again after the reconnect. */
  connectionLost() {
    this.inFlight.clear();
  }

  get started(): boolean {
    return this.outbox !== null;
  }

  /** add queues a message and returns its client_msg_id. */
  add(id: number, text: string, replyTo?: number): string {
    if (!this.outbox) throw new Error('not started');
    const client_msg_id = newClientMsgId();
    this.outbox.add({ client_msg_id, conversation_id: id, text, created_at: new Date().toISOString(), ...(replyTo ? { reply_to: replyTo } : {}) });
    return client_msg_id;
  }

  /** retry puts a refused message back in line. */
  retry(clientMsgId: string) {
    this.outbox?.update(clientMsgId, { error: undefined });
    this.flush();
  }

  /** discard drops a message from the outbox. */
  discard(clientMsgId: string) {
    this.outbox?.remove(clientMsgId);
  }

  /** settle takes messages of mine the server now holds out of the outbox. */
  settle(msgs: Message[], meId: number) {
    for (const m of msgs) if (m.sender_id === meId && m.client_msg_id && this.outbox?.has(m.client_msg_id)) this.outbox.remove(m.client_msg_id);
  }

  /** flush sends every waiting message that is not already on its way. */
  flush() {
    if (!this.outbox || !this.online()) return;
    const st = this.store.get();
    for (const item of this.outbox.items()) {
      if (item.error || this.inFlight.has(item.client_msg_id)) continue;
      const stored = st.messages[item.conversation_id]?.items.some((m) => m.client_msg_id === item.client_msg_id && m.sender_id === st.me?.id);
      if (stored) {
        this.outbox.remove(item.client_msg_id);
        continue;
      }
      this.inFlight.add(item.client_msg_id);
      const id = item.client_msg_id;
      this.request('send', { conversation_id: item.conversation_id, client_msg_id: id, text: item.text, ...(item.reply_to ? { reply_to: item.reply_to } : {}) }).then(
        (r) => {
          this.inFlight.delete(id);
          const m = r.message as Message | undefined;
          if (m) {
            this.store.set((s) => applyMessages(s, m.conversation_id, [m]));
            this.stored(m.conversation_id, [m]);
          }
          this.outbox?.remove(id);
        },
        (e: Error) => {
          this.inFlight.delete(id);
          if (e instanceof ConnectionLost) return; // sent again after the reconnect
          if (e instanceof ReplyError && (TRANSIENT.has(e.code) || e.code === 'timeout')) {
            const wait = Math.min(30_000, Math.max(200, e.retryAfterMs ?? 2000));
            if (!this.retryTimer) this.retryTimer = setTimeout(() => ((this.retryTimer = null), this.flush()), wait);
            return;
          }
          this.outbox?.update(id, { error: e.message || 'The message was not accepted.' });
        },
      );
    }
  }
}
