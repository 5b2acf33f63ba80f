// Typing: the indicators of others (each expires unless refreshed) and this
// user's own typing, told to the others at most once per refresh interval.
import type { ServerEvent } from '../api/types';
import { setTyping, type ChatState } from '../state/chat';
import type { Store } from '../state/store';
import type { RequestFn } from './socket';

const TYPING_REFRESH_MS = 3000;

type TypingEvent = Extract<ServerEvent, { ev: 'typing' }>;

export class Typing {
  private store: Store<ChatState>;
  private request: RequestFn;
  /** "conversation:user" → when the indicator goes out. */
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** conversation → when this user's typing was last told. */
  private sent = new Map<number, number>();

  constructor(store: Store<ChatState>, request: RequestFn) {
    this.store = store;
    this.request = request;
  }

  /** heard shows (or hides) another member's typing from a server event. */
  heard(ev: TypingEvent) {
    const s = this.store;
    if (ev.user_id === s.get().me?.id) return;
    const key = `${ev.conversation_id}:${ev.user_id}`;
    const old = this.timers.get(key);
    if (old) clearTimeout(old);
    this.timers.delete(key);
    if (ev.active) {
      const ms = ev.expires_in_ms ?? 5000;
      s.set((st) => setTyping(st, ev.conversation_id, ev.user_id, Date.now() + ms));
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          s.set((st) => setTyping(st, ev.conversation_id, ev.user_id, null));
        }, ms),
      );
    } else s.set((st) => setTyping(st, ev.conversation_id, ev.user_id, null));
  }

  /** tell says that this user is (or stopped) typing in a conversation. */
  tell(id: number, active: boolean) {
    const last = this.sent.get(id) ?? 0;
    const now = Date.now();
    if (active) {
      if (now - last < TYPING_REFRESH_MS) return;
      this.sent.set(id, now);
    } else {
      if (!this.sent.has(id)) return;
      this.sent.delete(id);
    }
    this.request('typing', { conversation_id: id, active }).catch(() => {});
  }

  /** stop cancels the expiry timers of the indicators shown. */
  stop() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
