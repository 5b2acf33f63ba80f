// Sync: after every (re)connect the client says, per conversation, the last
// seq and change it holds; the server answers with one `sync` event per
// conversation, then `synced`, then the reply. Conversations the sync does
// not mention are no longer ours. A sync asked for while one runs runs
// after it (a new conversation appeared, or more changes remain).
import type { Message } from '../api/types';
import { applySync, cursorFor, removeConversation, type ChatState, type SyncEvent } from '../state/chat';
import type { Store } from '../state/store';
import type { History } from './history';
import type { RequestFn } from './socket';

export interface SyncDeps {
  store: Store<ChatState>;
  request: RequestFn;
  history: History;
  /** Called with the messages each sync event brought (for receipts and the outbox). */
  got: (id: number, msgs: Message[]) => void;
  /** The connection is syncing (the first sync on it) or online again. */
  syncing: () => void;
  synced: () => void;
  /** Whether a sync may run now (the connection is up). */
  connected: () => boolean;
}

export class Sync {
  private d: SyncDeps;
  /** Conversation ids seen in the sync under way (null: none under way). */
  private seen: Set<number> | null = null;
  private cursors = new Set<number>();
  private running = false;
  private again = false;
  private soonTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: SyncDeps) {
    this.d = deps;
  }

  /** run asks for everything missed since the cursors, then goes online. */
  async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    const st = this.d.store.get();
    const cursors: Record<string, { seq: number; mod: number }> = {};
    for (const k of Object.keys(st.messages)) {
      const id = Number(k);
      if (st.messages[id] && st.messages[id].items.length > 0) cursors[k] = cursorFor(st, id);
    }
    this.cursors = new Set(Object.keys(cursors).map(Number));
    this.seen = new Set();
    this.d.syncing();
    try {
      await this.d.request('sync', { cursors }, 60_000);
    } catch {
      this.running = false;
      return; // the connection is gone or the sync failed: it reconnects
    }
    this.running = false;
    this.d.synced();
    if (this.again) void this.run();
  }

  /** soon runs another sync shortly (a new conversation appeared). */
  soon() {
    if (this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      if (this.d.connected()) void this.run();
    }, 50);
  }

  /** conversation applies one conversation's `sync` event. */
  conversation(ev: SyncEvent) {
    const id = ev.conversation.id;
    const fromCursor = this.cursors.has(id);
    this.seen?.add(id);
    this.d.store.set((st) => applySync(st, ev, fromCursor));
    this.d.got(id, ev.messages);
    if (ev.has_more && fromCursor) void this.d.history.fillAfter(id);
    if (ev.changes_more) this.again = true; // continue from the last change's mod
  }

  /** done ends the sync's events (`synced`). */
  done() {
    const seen = this.seen;
    if (seen) {
      // Conversations the sync did not mention are no longer ours.
      this.d.store.set((st) => {
        let next = st;
        for (const k of Object.keys(st.conversations)) if (!seen.has(Number(k))) next = removeConversation(next, Number(k));
        return next;
      });
    }
    this.seen = null;
  }

  /** lost forgets the sync under way: its connection is gone. */
  lost() {
    this.running = false;
    this.seen = null;
  }

  stop() {
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.soonTimer = null;
  }
}
