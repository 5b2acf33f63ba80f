// RealtimeClient owns the one WebSocket to /api/v1/ws: it connects,
// reconnects with exponential backoff and jitter, resyncs with cursors after
// every (re)connect, sends the outbox, reports receipts and typing, and writes
// everything it learns into the chat store. The UI never touches the socket.
import type { Message, Reply, ServerEvent, ServerFrameObject, User } from '../api/types';
import {
  applyMemberChange,
  applyMessages,
  applyReceipt,
  applySync,
  cursorFor,
  maxSeq,
  raiseOwnMarks,
  removeConversation,
  setHasOlder,
  setPresence,
  setTyping,
  upsertConversation,
  type ChatState,
  type ConnectionState,
  type SyncEvent,
} from '../state/chat';
import type { Store } from '../state/store';
import { splitFrame } from './frames';
import { newClientMsgId, Outbox } from './outbox';

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

export type HistoryFetcher = (id: number, q: { after_seq?: number; before_seq?: number; limit?: number }) => Promise<{ messages: Message[]; has_more: boolean }>;

export interface ClientOptions {
  store: Store<ChatState>;
  url: string;
  socket?: SocketFactory;
  storage?: Storage | null;
  random?: () => number;
  /** REST history, to page past what a sync carries and to fill gaps. */
  history?: HistoryFetcher;
  /** Resolves false when the session is no longer valid (REST /me says 401). */
  checkSession?: () => Promise<boolean>;
  /** Called once when the server ends the session (close 4001 or 401). */
  onSessionEnded?: () => void;
  requestTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Listen to the window's online/offline events (default true). */
  watchNetwork?: boolean;
}

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

/**
 * backoffDelay is the wait before reconnect attempt n (1-based): exponential
 * from base up to max, with "equal jitter" (half fixed, half random) so that
 * many clients dropped at once do not come back at once.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs = 500, maxMs = 30_000): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Errors after which a send is worth trying again later. */
const TRANSIENT = new Set(['rate_limited', 'unavailable', 'internal']);

const TYPING_REFRESH_MS = 3000;
const RECEIPT_DELAY_MS = 200;
const PING_EVERY_MS = 25_000;

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class RealtimeClient {
  readonly store: Store<ChatState>;
  private opts: ClientOptions;
  private socketFactory: SocketFactory;
  private random: () => number;
  private ws: SocketLike | null = null;
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private outbox: Outbox | null = null;
  private unsubOutbox: (() => void) | null = null;
  private inFlight = new Set<string>();
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private receiptTimer: ReturnType<typeof setTimeout> | null = null;
  private resyncTimer: ReturnType<typeof setTimeout> | null = null;
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Conversation ids seen in the sync under way (null: none under way). */
  private syncSeen: Set<number> | null = null;
  private syncCursors = new Set<number>();
  private syncing = false;
  private resyncWanted = false;
  /** Marks this client wants the server to hold: conversation → marks. */
  private wantMarks = new Map<number, { read: number; delivered: number }>();
  private typingSent = new Map<number, number>();
  private filling = new Set<number>();
  private sessionEnded = false;
  private eventListeners = new Set<(ev: ServerEvent) => void>();
  private onOnline = () => this.networkUp();
  private onOffline = () => this.networkDown();

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.socketFactory = opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.random = opts.random ?? Math.random;
  }

  // ---- lifecycle ----

  /** start connects as user me and keeps connected until stop(). */
  start(me: User) {
    this.stopped = false;
    this.sessionEnded = false;
    this.store.set((s) => ({ ...s, me }));
    this.outbox = new Outbox(this.opts.storage ?? null, `parley.outbox.${me.id}`);
    this.unsubOutbox = this.outbox.subscribe((items) => this.store.set((s) => ({ ...s, outbox: items })));
    this.store.set((s) => ({ ...s, outbox: this.outbox!.items() }));
    if (this.opts.watchNetwork !== false && typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline);
      window.addEventListener('offline', this.onOffline);
    }
    this.connect();
  }

  /** stop closes the connection for good (logout). The outbox stays stored. */
  stop() {
    this.stopped = true;
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('offline', this.onOffline);
    }
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.failPending();
    this.unsubOutbox?.();
    this.unsubOutbox = null;
    this.outbox = null;
    this.setConn({ status: 'idle', retryAt: null, attempts: 0 });
  }

  private clearTimers() {
    for (const t of [this.reconnectTimer, this.connectTimer, this.flushTimer, this.receiptTimer, this.resyncTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
    this.reconnectTimer = this.connectTimer = this.flushTimer = this.receiptTimer = this.resyncTimer = null;
    this.pingTimer = null;
  }

  private setConn(patch: Partial<ConnectionState>) {
    this.store.set((s) => ({ ...s, connection: { ...s.connection, ...patch } }));
  }

  get status() {
    return this.store.get().connection.status;
  }

  private connect() {
    if (this.stopped || this.ws) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.setConn({ status: 'connecting', retryAt: null });
    let ws: SocketLike;
    try {
      ws = this.socketFactory(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      if (typeof e.data !== 'string') return;
      for (const obj of splitFrame(e.data)) this.handle(obj);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.lost(e.code);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onopen = () => {
      /* the server speaks first (hello) */
    };
    // An upgrade that neither opens nor fails (a dead network) is given up.
    this.connectTimer = setTimeout(() => {
      if (ws === this.ws && this.status === 'connecting') this.drop();
    }, this.opts.requestTimeoutMs ?? 10_000);
  }

  /** drop abandons the current socket at once and schedules a reconnect. */
  private drop() {
    const ws = this.ws;
    if (!ws) return;
    detach(ws);
    try {
      ws.close(4000, 'client gave up');
    } catch {
      /* ignore */
    }
    this.lost(1006);
  }

  private lost(code: number) {
    const ws = this.ws;
    if (ws) detach(ws);
    this.ws = null;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.connectTimer = null;
    this.pingTimer = null;
    this.syncing = false;
    this.syncSeen = null;
    this.failPending();
    this.inFlight.clear();
    // Typing indicators cannot be refreshed while away.
    this.store.set((s) => ({ ...s, typing: {} }));
    if (this.stopped) return;
    if (code === 4001) {
      this.endSession();
      return;
    }
    this.scheduleReconnect();
  }

  private endSession() {
    if (this.sessionEnded) return;
    this.sessionEnded = true;
    this.stopped = true;
    this.clearTimers();
    this.setConn({ status: 'ended', retryAt: null });
    this.opts.onSessionEnded?.();
  }

  private scheduleReconnect() {
    const attempts = this.store.get().connection.attempts + 1;
    const delay = backoffDelay(attempts, this.random, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
    this.setConn({ status: 'offline', attempts, retryAt: Date.now() + delay });
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    // A refused upgrade looks like any failure: ask REST whether we are
    // still logged in, once the failures repeat.
    if (attempts >= 2 && this.opts.checkSession) {
      this.opts.checkSession().then(
        (ok) => {
          if (!ok && !this.stopped) this.endSession();
        },
        () => {},
      );
    }
  }

  /** reconnectNow skips the backoff wait (the network came back, or the user asked). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.ws) return;
    this.setConn({ attempts: 0 });
    this.connect();
  }

  private networkUp() {
    this.reconnectNow();
  }

  private networkDown() {
    // The browser knows the network is gone; the socket may take a long
    // time to notice. Give it up now and wait for 'online' (or the backoff).
    if (this.ws) this.drop();
  }

  private failPending() {
    const pend = [...this.pending.values()];
    this.pending.clear();
    for (const p of pend) {
      clearTimeout(p.timer);
      p.reject(new ConnectionLost());
    }
  }

  // ---- requests ----

  /** request sends one operation and resolves with its reply. */
  request(op: string, fields: Record<string, unknown> = {}, timeoutMs = this.opts.requestTimeoutMs ?? 15_000): Promise<Reply> {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return Promise.reject(new ConnectionLost());
    const id = String(this.nextId++);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new ReplyError('timeout', 'The server did not answer in time.'));
        // A connection that stops answering is dead: start over.
        if (ws === this.ws) this.drop();
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

  private handle(obj: ServerFrameObject) {
    if ('re' in obj) {
      const r = obj as Reply;
      const p = this.pending.get(String(r.re));
      if (!p) return;
      this.pending.delete(String(r.re));
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r);
      else p.reject(new ReplyError(r.error?.code ?? 'internal', r.error?.message ?? 'Request failed.', typeof r.retry_after_ms === 'number' ? r.retry_after_ms : undefined));
      return;
    }
    if ('ev' in obj) this.event(obj as ServerEvent);
  }

  /**
   * onEvent lets another feature (calls) hear server events, after the
   * client has applied them to the store; with request() it can also send
   * its own operations over the same connection. Returns an unsubscribe.
   */
  onEvent(listener: (ev: ServerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private event(ev: ServerEvent) {
    this.apply(ev);
    for (const l of [...this.eventListeners]) {
      try {
        l(ev);
      } catch (e) {
        console.error('event listener failed', e);
      }
    }
  }

  private apply(ev: ServerEvent) {
    const s = this.store;
    switch (ev.ev) {
      case 'hello':
        if (this.connectTimer) clearTimeout(this.connectTimer);
        this.connectTimer = null;
        s.set((st) => ({ ...st, me: st.me ? { ...st.me, ...ev.user } : ev.user }));
        void this.sync();
        break;
      case 'sync': {
        const id = ev.conversation.id;
        this.syncSeen?.add(id);
        s.set((st) => applySync(st, ev as SyncEvent, this.syncCursors.has(id)));
        this.afterMessages(id, ev.messages);
        if (ev.has_more && this.syncCursors.has(id)) void this.fillAfter(id);
        if (ev.changes_more) this.resyncWanted = true; // continue from the last change's mod
        break;
      }
      case 'synced': {
        const seen = this.syncSeen;
        if (seen) {
          // Conversations the sync did not mention are no longer ours.
          s.set((st) => {
            let next = st;
            for (const k of Object.keys(st.conversations)) if (!seen.has(Number(k))) next = removeConversation(next, Number(k));
            return next;
          });
        }
        this.syncSeen = null;
        break;
      }
      case 'message': {
        const m = ev.message;
        const id = m.conversation_id;
        const known = id in s.get().conversations;
        const held = maxSeq(s.get().messages[id]);
        s.set((st) => applyMessages(st, id, [m]));
        this.afterMessages(id, [m]);
        if (!known) this.resyncSoon();
        else if (held > 0 && m.seq > held + 1) void this.fillAfter(id);
        break;
      }
      case 'receipt':
        s.set((st) => applyReceipt(st, ev));
        break;
      case 'typing': {
        if (ev.user_id === s.get().me?.id) break;
        const key = `${ev.conversation_id}:${ev.user_id}`;
        const old = this.typingTimers.get(key);
        if (old) clearTimeout(old);
        this.typingTimers.delete(key);
        if (ev.active) {
          const ms = ev.expires_in_ms ?? 5000;
          s.set((st) => setTyping(st, ev.conversation_id, ev.user_id, Date.now() + ms));
          this.typingTimers.set(
            key,
            setTimeout(() => {
              this.typingTimers.delete(key);
              s.set((st) => setTyping(st, ev.conversation_id, ev.user_id, null));
            }, ms),
          );
        } else s.set((st) => setTyping(st, ev.conversation_id, ev.user_id, null));
        break;
      }
      case 'presence':
        s.set((st) => setPresence(st, ev.user_id, { online: ev.online, last_seen: ev.last_seen }));
        break;
      case 'member':
        s.set((st) => applyMemberChange(st, ev.conversation_id, ev.change, ev.member));
        break;
      case 'conversation':
        if (ev.change === 'removed') s.set((st) => removeConversation(st, ev.conversation.id));
        else {
          const known = ev.conversation.id in s.get().conversations;
          s.set((st) => upsertConversation(st, ev.conversation));
          if (!known || ev.change === 'created' || ev.change === 'added') this.resyncSoon();
        }
        break;
      default:
        break;
    }
  }

  // ---- sync ----

  /** sync asks for everything missed since the cursors, then goes online. */
  private async sync(): Promise<void> {
    if (this.syncing) {
      this.resyncWanted = true;
      return;
    }
    this.syncing = true;
    this.resyncWanted = false;
    const st = this.store.get();
    const cursors: Record<string, { seq: number; mod: number }> = {};
    for (const k of Object.keys(st.messages)) {
      const id = Number(k);
      if (st.messages[id] && st.messages[id].items.length > 0) cursors[k] = cursorFor(st, id);
    }
    this.syncCursors = new Set(Object.keys(cursors).map(Number));
    this.syncSeen = new Set();
    if (this.store.get().connection.status !== 'online') this.setConn({ status: 'syncing' });
    try {
      await this.request('sync', { cursors }, 60_000);
    } catch {
      this.syncing = false;
      return; // the connection is gone or the sync failed: lost() reconnects
    }
    this.syncing = false;
    this.setConn({ status: 'online', attempts: 0, retryAt: null, everSynced: true });
    this.startPing();
    this.resendMarks();
    this.flushOutbox();
    if (this.resyncWanted) void this.sync();
  }

  /** resyncSoon runs another sync shortly (a new conversation appeared). */
  resyncSoon() {
    if (this.resyncTimer) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      if (this.status === 'online' || this.status === 'syncing') void this.sync();
    }, 50);
  }

  /** fillAfter pages history forward until the conversation has no gap. */
  private async fillAfter(id: number) {
    const history = this.opts.history;
    if (!history || this.filling.has(id)) return;
    this.filling.add(id);
    try {
      for (let i = 0; i < 50; i++) {
        const cm = this.store.get().messages[id];
        const after = cm && cm.items.length ? contiguousAfter(cm.items) : 0;
        const page = await history(id, { after_seq: after, limit: 200 });
        this.store.set((st) => applyMessages(st, id, page.messages));
        this.afterMessages(id, page.messages);
        if (!page.has_more || page.messages.length === 0) break;
      }
    } catch {
      /* the next sync fills what is missing */
    } finally {
      this.filling.delete(id);
    }
  }

  /** loadOlder fetches the page of history before the oldest message held. */
  async loadOlder(id: number, limit = 50): Promise<void> {
    const history = this.opts.history;
    if (!history) return;
    const cm = this.store.get().messages[id];
    const before = cm && cm.items.length ? cm.items[0].seq : (this.store.get().conversations[id]?.last_seq ?? 0) + 1;
    if (before <= 1) {
      this.store.set((st) => setHasOlder(st, id, false));
      return;
    }
    const page = await history(id, { before_seq: before, limit });
    this.store.set((st) => setHasOlder(applyMessages(st, id, page.messages), id, page.has_more));
  }

  /**
   * ensureLoaded fetches the latest page of a conversation the store holds no
   * messages for (one just created or joined through REST).
   */
  async ensureLoaded(id: number): Promise<void> {
    const st = this.store.get();
    if ((st.messages[id]?.items.length ?? 0) > 0) return;
    const last = st.conversations[id]?.last_seq ?? 0;
    const history = this.opts.history;
    if (last === 0 || !history) {
      this.store.set((s) => setHasOlder(s, id, false));
      return;
    }
    const page = await history(id, { before_seq: last + 1, limit: 50 });
    this.store.set((s) => setHasOlder(applyMessages(s, id, page.messages), id, page.has_more));
    this.afterMessages(id, page.messages);
  }

  // ---- receipts ----

  /** afterMessages reports delivery of messages now held and settles the outbox. */
  private afterMessages(id: number, msgs: Message[]) {
    const me = this.store.get().me;
    if (!me || msgs.length === 0) return;
    let top = 0;
    for (const m of msgs) {
      if (m.seq > top) top = m.seq;
      if (m.sender_id === me.id && m.client_msg_id && this.outbox?.has(m.client_msg_id)) this.outbox.remove(m.client_msg_id);
    }
    // (A message of mine has already moved my marks, on the server and in
    // applyMessages; the others are reported delivered.)
    this.want(id, 0, top);
  }

  /** markRead reports that the user has seen the conversation up to seq. */
  markRead(id: number, seq: number) {
    const c = this.store.get().conversations[id];
    if (!c || seq <= (c.read_seq ?? 0)) return;
    this.want(id, seq, seq);
    this.store.set((st) => raiseOwnMarks(st, id, seq, seq));
  }

  /** want queues marks for the server unless it already has them. */
  private want(id: number, read: number, delivered: number) {
    const c = this.store.get().conversations[id];
    const w = this.wantMarks.get(id);
    const next = { read: Math.max(w?.read ?? 0, read), delivered: Math.max(w?.delivered ?? 0, delivered, read) };
    const known = c && next.read <= (c.read_seq ?? 0) && next.delivered <= (c.delivered_seq ?? 0);
    if (known && !w) return;
    this.wantMarks.set(id, next);
    if (!this.receiptTimer) this.receiptTimer = setTimeout(() => this.flushReceipts(), RECEIPT_DELAY_MS);
  }

  private flushReceipts() {
    this.receiptTimer = null;
    if (this.status !== 'online') return; // resendMarks() after the next sync
    const all = [...this.wantMarks.entries()];
    this.wantMarks.clear();
    for (const [id, w] of all) {
      if (!(id in this.store.get().conversations)) continue; // left or removed meanwhile
      const fields: Record<string, unknown> = { conversation_id: id, delivered_seq: w.delivered };
      if (w.read > 0) fields.read_seq = w.read;
      this.request('receipt', fields).then(
        (r) => this.store.set((st) => raiseOwnMarks(st, id, Number(r.read_seq ?? 0), Number(r.delivered_seq ?? 0))),
        (e) => {
          if (e instanceof ConnectionLost || (e instanceof ReplyError && TRANSIENT.has(e.code))) {
            const cur = this.wantMarks.get(id) ?? { read: 0, delivered: 0 };
            this.wantMarks.set(id, { read: Math.max(cur.read, w.read), delivered: Math.max(cur.delivered, w.delivered) });
          }
        },
      );
    }
  }

  /** After a sync, push marks the server has not got yet (read while offline). */
  private resendMarks() {
    const st = this.store.get();
    for (const [k, c] of Object.entries(st.conversations)) {
      const id = Number(k);
      const held = maxSeq(st.messages[id]);
      const w = this.wantMarks.get(id);
      if (w || held > (c.delivered_seq ?? 0)) this.want(id, w?.read ?? 0, Math.max(held, w?.delivered ?? 0));
    }
    if (this.wantMarks.size && !this.receiptTimer) this.receiptTimer = setTimeout(() => this.flushReceipts(), RECEIPT_DELAY_MS);
  }

  // ---- typing ----

  /** setTyping tells the others the user is (or stopped) typing. */
  setTyping(id: number, active: boolean) {
    if (this.status !== 'online' || !(id in this.store.get().conversations)) return;
    const last = this.typingSent.get(id) ?? 0;
    const now = Date.now();
    if (active) {
      if (now - last < TYPING_REFRESH_MS) return;
      this.typingSent.set(id, now);
    } else {
      if (!this.typingSent.has(id)) return;
      this.typingSent.delete(id);
    }
    this.request('typing', { conversation_id: id, active }).catch(() => {});
  }

  // ---- outbox ----

  /** send queues a message; it goes out now if online, else on reconnect. */
  send(id: number, text: string): string {
    if (!this.outbox) throw new Error('not started');
    const client_msg_id = newClientMsgId();
    this.outbox.add({ client_msg_id, conversation_id: id, text, created_at: new Date().toISOString() });
    this.setTyping(id, false);
    this.flushOutbox();
    return client_msg_id;
  }

  /** retry puts a refused message back in line. */
  retry(clientMsgId: string) {
    this.outbox?.update(clientMsgId, { error: undefined });
    this.flushOutbox();
  }

  /** discard drops a message from the outbox. */
  discard(clientMsgId: string) {
    this.outbox?.remove(clientMsgId);
  }

  /**
   * flushOutbox sends every waiting message that is not already on its way.
   * Each keeps its client_msg_id, so a message whose acknowledgement was lost
   * with a connection is recognised by the server and not stored twice.
   */
  flushOutbox() {
    if (!this.outbox || this.status !== 'online') return;
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
      this.request('send', { conversation_id: item.conversation_id, client_msg_id: id, text: item.text }).then(
        (r) => {
          this.inFlight.delete(id);
          const m = r.message as Message | undefined;
          if (m) {
            this.store.set((s) => applyMessages(s, m.conversation_id, [m]));
            this.afterMessages(m.conversation_id, [m]);
          }
          this.outbox?.remove(id);
        },
        (e: Error) => {
          this.inFlight.delete(id);
          if (e instanceof ConnectionLost) return; // sent again after the reconnect
          if (e instanceof ReplyError && (TRANSIENT.has(e.code) || e.code === 'timeout')) {
            const wait = Math.min(30_000, Math.max(200, e.retryAfterMs ?? 2000));
            if (!this.flushTimer) this.flushTimer = setTimeout(() => ((this.flushTimer = null), this.flushOutbox()), wait);
            return;
          }
          this.outbox?.update(id, { error: e.message || 'The message was not accepted.' });
        },
      );
    }
  }

  // ---- keepalive ----

  private startPing() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.status === 'online') this.request('ping', {}, 10_000).catch(() => {});
    }, PING_EVERY_MS);
  }
}

function detach(ws: SocketLike) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

/** contiguousAfter is the seq to page forward from: the top of the run held. */
function contiguousAfter(items: Message[]): number {
  let top = items[0].seq;
  for (let i = 1; i < items.length; i++) {
    if (items[i].seq !== top + 1) break;
    top = items[i].seq;
  }
  return top;
}
