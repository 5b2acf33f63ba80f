// History over REST: paging past what a sync carries, filling a gap after a
// live message that skipped seqs, and the first page of a conversation
// opened before any sync brought its messages.
import type { Message } from '../api/types';
import { applyMessages, contiguousTop, setHasOlder, type ChatState } from '../state/chat';
import type { Store } from '../state/store';

export type HistoryFetcher = (id: number, q: { after_seq?: number; before_seq?: number; around_seq?: number; limit?: number }) => Promise<{ messages: Message[]; has_more?: boolean; has_more_before?: boolean; has_more_after?: boolean }>;

export class History {
  private store: Store<ChatState>;
  private fetch: HistoryFetcher | undefined;
  /** Called with the messages each page brought (for receipts and the outbox). */
  private got: (id: number, msgs: Message[]) => void;
  private filling = new Set<number>();

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
   * loadAround makes sure the message at seq is held, for a jump to it (the
   * message a reply quotes): the page around it, then the pages from there
   * up to the oldest message held before, so no gap is left. Resolves
   * whether it is held.
   */
  async loadAround(id: number, seq: number): Promise<boolean> {
    const held = () => this.store.get().messages[id]?.items ?? [];
    if (held().some((m) => m.seq === seq)) return true;
    const history = this.fetch;
    if (!history) return false;
    const oldest = held()[0]?.seq ?? Infinity;
    const page = await history(id, { around_seq: seq, limit: 50 });
    this.store.set((st) => applyMessages(st, id, page.messages));
    if (seq < oldest) this.store.set((st) => setHasOlder(st, id, !!page.has_more_before));
    this.got(id, page.messages);
    // Fill the gap between the page and what was held.
    let top = page.messages.length ? page.messages[page.messages.length - 1].seq : seq;
    for (let i = 0; i < 20 && oldest !== Infinity && top + 1 < oldest; i++) {
      const next = await history(id, { after_seq: top, limit: 200 });
      const gap = next.messages.filter((m) => m.seq < oldest);
      this.store.set((st) => applyMessages(st, id, gap));
      if (next.messages.length === 0) break;
      top = next.messages[next.messages.length - 1].seq;
    }
    return held().some((m) => m.seq === seq);
  }

  /** loadOlder fetches the page of history before the oldest message held. */
  async loadOlder(id: number, limit = 50): Promise<void> {
    const history = this.fetch;
    if (!history) return;
    const cm = this.store.get().messages[id];
    const before = cm && cm.items.length ? cm.items[0].seq : (this.store.get().conversations[id]?.last_seq ?? 0) + 1;
    if (before <= 1) {
      this.store.set((st) => setHasOlder(st, id, false));
      return;
    }
    const page = await history(id, { before_seq: before, limit });
    this.store.set((st) => setHasOlder(applyMessages(st, id, page.messages), id, !!page.has_more));
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
