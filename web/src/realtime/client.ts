// RealtimeClient owns the one WebSocket to /api/v1/ws: it connects,
// reconnects with exponential backoff and jitter, resyncs with cursors after
// every (re)connect, and writes everything it learns into the chat store. The
// UI never touches the socket. Its parts: socket.ts (the socket seam,
// requests and replies, backoff), sender.ts (the outbox going out),
// receipts.ts (read/delivered marks), typing.ts, history.ts (REST paging).
import type { Message, Reply, ServerEvent, ServerFrameObject, User } from '../api/types';
import {
  applyMemberChange,
  applyMessages,
  applyReceipt,
  maxSeq,
  raiseOwnMarks,
  removeConversation,
  setPresence,
  upsertConversation,
  type ChatState,
  type ConnectionState,
  type SyncEvent,
} from '../state/chat';
import { applyReaction } from '../state/convo';
import type { Store } from '../state/store';
import { splitFrame } from './frames';
import { History, type HistoryFetcher } from './history';
import { Receipts } from './receipts';
import { Sender, type NewFile } from './sender';
import { Sync } from './sync';
import { backoffDelay, ConnectionLost, detach, Replies, type SocketFactory, type SocketLike } from './socket';
import { Typing } from './typing';
import { Uploads, type BlobKeeper, type UploadFn } from './uploads';

export { backoffDelay, ConnectionLost, ReplyError, type SocketFactory, type SocketLike } from './socket';
export type { HistoryFetcher } from './history';
export type { NewFile } from './sender';

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
  /** How files go up (POST /uploads; tests give their own). */
  upload?: UploadFn;
  /** Where waiting files' bytes are kept across page loads (IndexedDB in the app; none when absent). */
  keeper?: BlobKeeper | null;
}

const PING_EVERY_MS = 25_000;

export class RealtimeClient {
  readonly store: Store<ChatState>;
  private opts: ClientOptions;
  private socketFactory: SocketFactory;
  private random: () => number;
  private ws: SocketLike | null = null;
  private replies = new Replies();
  private sender: Sender;
  private receipts: Receipts;
  private typing: Typing;
  private history: History;
  private sync: Sync;
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private sessionEnded = false;
  private eventListeners = new Set<(ev: ServerEvent) => void>();
  private onOnline = () => this.networkUp();
  private onOffline = () => this.networkDown();

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.socketFactory = opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.random = opts.random ?? Math.random;
    const request = this.request.bind(this);
    const online = () => this.status === 'online';
    const got = (id: number, msgs: Message[]) => this.afterMessages(id, msgs);
    this.sender = new Sender(this.store, request, online, got, new Uploads(opts.upload, opts.keeper ?? null));
    this.receipts = new Receipts(this.store, request, online);
    this.typing = new Typing(this.store, request);
    this.history = new History(this.store, opts.history, got);
    this.sync = new Sync({
      store: this.store,
      request,
      history: this.history,
      got,
      syncing: () => {
        if (this.status !== 'online') this.setConn({ status: 'syncing' });
      },
      synced: () => {
        this.setConn({ status: 'online', attempts: 0, retryAt: null, everSynced: true });
        this.startPing();
        this.receipts.resend();
        this.sender.flush();
      },
      connected: () => this.status === 'online' || this.status === 'syncing',
    });
  }

  // ---- lifecycle ----

  /** start connects as user me and keeps connected until stop(). */
  start(me: User) {
    this.stopped = false;
    this.sessionEnded = false;
    this.store.set((s) => ({ ...s, me }));
    this.sender.start(me, this.opts.storage ?? null);
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
    this.replies.failAll();
    this.sender.stop();
    this.setConn({ status: 'idle', retryAt: null, attempts: 0 });
  }

  private clearTimers() {
    for (const t of [this.reconnectTimer, this.connectTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.sender.stopTimer();
    this.sync.stop();
    this.receipts.stop();
    this.typing.stop();
    this.reconnectTimer = this.connectTimer = null;
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
    this.sync.lost();
    this.replies.failAll();
    this.sender.connectionLost();
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


  // ---- requests ----

  /** request sends one operation and resolves with its reply. */
  request(op: string, fields: Record<string, unknown> = {}, timeoutMs = this.opts.requestTimeoutMs ?? 15_000): Promise<Reply> {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return Promise.reject(new ConnectionLost());
    // A connection that stops answering is dead: start over.
    return this.replies.send(ws, op, fields, timeoutMs, () => ws === this.ws && this.drop());
  }

  private handle(obj: ServerFrameObject) {
    if ('re' in obj) {
      this.replies.settle(obj as Reply);
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
        void this.sync.run();
        break;
      case 'sync':
        this.sync.conversation(ev as SyncEvent);
        break;
      case 'synced':
        this.sync.done();
        break;
      case 'message': {
        const m = ev.message;
        const id = m.conversation_id;
        const known = id in s.get().conversations;
        const held = maxSeq(s.get().messages[id]);
        s.set((st) => applyMessages(st, id, [m]));
        this.afterMessages(id, [m]);
        if (!known) this.resyncSoon();
        else if (held > 0 && m.seq > held + 1) void this.history.fillAfter(id);
        break;
      }
      case 'reaction':
        s.set((st) => applyReaction(st, ev));
        break;
      case 'receipt':
        s.set((st) => applyReceipt(st, ev));
        break;
      case 'typing':
        this.typing.heard(ev);
        break;
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

  // ---- sync and history ----

  /** resyncSoon runs another sync shortly (a new conversation appeared). */
  resyncSoon() {
    this.sync.soon();
  }

  /**
   * openAt makes sure the message at seq is shown: held already, or the
   * page of history around it, kept as a window of older history until it
   * reaches the live history (nothing between is loaded). Resolves whether
   * it is held.
   */
  openAt(id: number, seq: number): Promise<boolean> {
    return this.history.openAt(id, seq);
  }

  /** closeWindow goes back to the live history of a conversation. */
  closeWindow(id: number) {
    this.history.closeWindow(id);
  }

  /** loadOlder fetches the page of history before the oldest message shown. */
  loadOlder(id: number, limit = 50): Promise<void> {
    return this.history.loadOlder(id, limit);
  }

  /** loadNewer fetches the page after an open window's newest message. */
  loadNewer(id: number, limit = 50): Promise<void> {
    return this.history.loadNewer(id, limit);
  }

  /**
   * ensureLoaded fetches the latest page of a conversation the store holds no
   * messages for (one just created or joined through REST).
   */
  ensureLoaded(id: number): Promise<void> {
    return this.history.ensureLoaded(id);
  }

  // ---- receipts ----

  /** afterMessages reports delivery of messages now held and settles the outbox. */
  private afterMessages(id: number, msgs: Message[]) {
    const me = this.store.get().me;
    if (!me || msgs.length === 0) return;
    let top = 0;
    for (const m of msgs) if (m.seq > top) top = m.seq;
    this.sender.settle(msgs, me.id);
    // (A message of mine has already moved my marks, on the server and in
    // applyMessages; the others are reported delivered.)
    this.receipts.want(id, 0, top);
  }

  /** markRead reports that the user has seen the conversation up to seq. */
  markRead(id: number, seq: number) {
    const c = this.store.get().conversations[id];
    if (!c || seq <= (c.read_seq ?? 0)) return;
    this.receipts.want(id, seq, seq);
    this.store.set((st) => raiseOwnMarks(st, id, seq, seq));
  }

  // ---- typing ----

  /** setTyping tells the others the user is (or stopped) typing. */
  setTyping(id: number, active: boolean) {
    if (this.status !== 'online' || !(id in this.store.get().conversations)) return;
    this.typing.tell(id, active);
  }

  // ---- outbox ----

  /**
   * send queues a message; it goes out now if online, else on reconnect.
   * Files are uploaded first (while online), then the message carries them.
   */
  send(id: number, text: string, opts: { replyTo?: number; files?: NewFile[] } = {}): string {
    const client_msg_id = this.sender.add(id, text, opts.replyTo, opts.files);
    this.setTyping(id, false);
    this.sender.flush();
    return client_msg_id;
  }

  /** retry puts a refused message back in line. */
  retry(clientMsgId: string) {
    this.sender.retry(clientMsgId);
  }

  /** discard drops a message from the outbox. */
  discard(clientMsgId: string) {
    this.sender.discard(clientMsgId);
  }

  /** removeFile cancels one file of a waiting message. */
  removeFile(clientMsgId: string, key: string) {
    this.sender.removeFile(clientMsgId, key);
  }

  /** uploads holds the bytes and the progress of the files waiting to go up. */
  get uploads() {
    return this.sender.uploads;
  }

  /** flushOutbox sends every waiting message that is not already on its way. */
  flushOutbox() {
    this.sender.flush();
  }

  // ---- keepalive ----

  private startPing() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.status === 'online') this.request('ping', {}, 10_000).catch(() => {});
    }, PING_EVERY_MS);
  }
}
