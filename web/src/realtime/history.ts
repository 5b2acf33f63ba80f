// History over REST: paging past what a sync carries, filling a gap after a
// live message that skipped seqs, the first page of a conversation opened
// before any sync brought its messages, and a window of older history
// opened at a message (state/chat.ts: openWindow).
import type { Message } from '../api/types';
import { applyMessages, closeWindow, contiguousTop, growWindow, holds, openWindow, setHasOlder, type ChatState } from '../state/chat';
import type { Store } from '../state/store';

export type HistoryFetcher = (id: number, q: { after_seq?: number; before_seq?: number; around_seq?: number; limit?: number }) => Promise<{ messages: Message[]; has_more?: boolean; has_more_before?: boolean; has_more_after?: boolean }>;

export class History {
  private store: Store<ChatState>;
  private fetch: HistoryFetcher | undefined;
  /** Called with the messages each page brought (for receipts and the outbox). */
  private got: (id: number, msgs: Message[]) => void;
  private filling = new Set<number>();
  /** Per conversation, the latest jump (openAt or closeWindow): an older jump's page is dropped. */
  private jumps = new Map<number, number>();

  constructor(store: Store<ChatState>, fetch: HistoryFetcher | undefined, got: (id: number, msgs: Message[]) => void) {
    this.store = store;
    this.fetch = fetch;
    this.got = got;
  }

  /** fillAfter pages history forward until the conversation has no gap. */
  async fillAfter(id: number) {
    const history = this.fetch;
    if (!history || this.filling.has(id)) return;
    this.filling.add(id);
    try {
      for (let i = 0; i < 50; i++) {
        const after = contiguousTop(this.store.get().messages[id]);
        const page = await history(id, { after_seq: after, limit: 200 });
        this.store.set((st) => applyMessages(st, id, page.messages));
        this.got(id, page.messages);
        if (!page.has_more || page.messages.length === 0) break;
      }
    } catch {
      /* the next sync fills what is missing */
    } finally {
      this.filling.delete(id);
    }
  }

  /**
   * openAt makes sure the message at seq is shown, for a jump to it (a
   * search result, a quoted or a pinned message): held already, or the page
   * around it, which joins the live history when it reaches it and is
   * otherwise an open window (nothing between is loaded). Resolves whether
   * the message is now held.
   */
  async openAt(id: number, seq: number): Promise<boolean> {
    const n = this.nextJump(id);
    const where = holds(this.store.get().messages[id], seq);
    if (where === 'live') this.store.set((st) => closeWindow(st, id));
    if (where) return true;
    const history = this.fetch;
    if (!history) return false;
    const page = await history(id, { around_seq: seq, limit: 50 });
    // Another jump came meanwhile: it decides what is shown.
    if (this.jumps.get(id) !== n) return false;
    this.store.set((st) => openWindow(st, id, { messages: page.messages, has_more_before: !!page.has_more_before, has_more_after: !!page.has_more_after }));
    this.got(id, page.messages);
    return holds(this.store.get().messages[id], seq) !== null;
  }

  /** closeWindow goes back to the live history of a conversation. */
  closeWindow(id: number) {
    this.nextJump(id);
    this.store.set((st) => closeWindow(st, id));
  }

  private nextJump(id: number): number {
    const n = (this.jumps.get(id) ?? 0) + 1;
    this.jumps.set(id, n);
    return n;
  }

  /**
   * loadOlder fetches the page of history before the oldest message shown
   * (of the open window, else of the live history).
   */
  async loadOlder(id: number, limit = 50): Promise<void> {
    const history = this.fetch;
    if (!history) return;
    const cm = this.store.get().messages[id];
    const w = cm?.window;
    if (w && w.items.length > 0) {
      const page = await history(id, { before_seq: w.items[0].seq, limit });
      this.store.set((st) => growWindow(st, id, 'older', page.messages, !!page.has_more));
      this.got(id, page.messages);
      return;
    }
    const before = cm && cm.items.length ? cm.items[0].seq : (this.store.get().conversations[id]?.last_seq ?? 0) + 1;
    if (before <= 1) {
      this.store.set((st) => setHasOlder(st, id, false));
      return;
    }
    const page = await history(id, { before_seq: before, limit });
    this.store.set((st) => setHasOlder(applyMessages(st, id, page.messages), id, !!page.has_more));
  }

  /**
   * loadNewer fetches the page of history after the open window's newest
   * message; the window joins the live history once it reaches it.
   */
  async loadNewer(id: number, limit = 50): Promise<void> {
    const history = this.fetch;
    const w = this.store.get().messages[id]?.window;
    if (!history || !w || w.items.length === 0) return;
    const page = await history(id, { after_seq: w.items[w.items.length - 1].seq, limit });
    this.store.set((st) => growWindow(st, id, 'newer', page.messages, !!page.has_more));
    this.got(id, page.messages);
  }

  /**
   * ensureLoaded fetches the latest page of a conversation the store holds no
   * messages for (one just created or joined through REST).
   */
  async ensureLoaded(id: number): Promise<void> {
    const st = this.store.get();
    if ((st.messages[id]?.items.length ?? 0) > 0) return;
    const last = st.conversations[id]?.last_seq ?? 0;
    const history = this.fetch;
    if (last === 0 || !history) {
      this.store.set((s) => setHasOlder(s, id, false));
      return;
    }
    const page = await history(id, { before_seq: last + 1, limit: 50 });
    this.store.set((s) => setHasOlder(applyMessages(s, id, page.messages), id, !!page.has_more));
    this.got(id, page.messages);
  }
}
