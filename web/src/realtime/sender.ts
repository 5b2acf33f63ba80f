// Sender: sending what the outbox holds. Messages wait in the outbox (kept
// across reloads) until the server acknowledges them; each keeps its
// client_msg_id, so a message whose acknowledgement was lost with a
// connection is recognised by the server and not stored twice.
//
// A message with files waits for their uploads (uploads.ts): each finished
// upload's id is written into the outbox item at once, so neither a reload
// nor a reconnect uploads a file twice, and the message goes out once, with
// every id, after the last one.
import { api, ApiError } from '../api/http';
import type { Message, User } from '../api/types';
import { applyMessages, type ChatState, type OutboxFile, type OutboxItem } from '../state/chat';
import type { Store } from '../state/store';
import { newClientMsgId, Outbox } from './outbox';
import { ConnectionLost, ReplyError, TRANSIENT, type RequestFn } from './socket';
import { Uploads, type UploadOutcome } from './uploads';

/** A file handed to send: its bytes and what is known of it. */
export interface NewFile {
  blob: Blob;
  name: string;
  width?: number;
  height?: number;
  duration?: number;
}

let fileCounter = 0;

function newFileKey(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}-${(fileCounter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const LOST_FILE = 'This file was not kept on this device when the page was closed. Remove it, or discard the message.';

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
  readonly uploads: Uploads;
  /** Starts the key of every file of this account (bytes kept on the device are per account). */
  private keyPrefix = 'f-';

  constructor(store: Store<ChatState>, request: RequestFn, online: () => boolean, stored: (id: number, msgs: Message[]) => void, uploads = new Uploads()) {
    this.store = store;
    this.request = request;
    this.online = online;
    this.stored = stored;
    this.uploads = uploads;
  }

  /** start opens the outbox of user me from storage and mirrors it into the store. */
  start(me: User, storage: Storage | null) {
    const outbox = new Outbox(storage, `parley.outbox.${me.id}`);
    this.outbox = outbox;
    this.keyPrefix = `u${me.id}-`;
    this.unsub = outbox.subscribe((items) => {
      this.store.set((s) => ({ ...s, outbox: items }));
      // The bytes of files no longer waiting (sent, removed, discarded) go.
      this.uploads.retain(new Set(items.flatMap((i) => (i.files ?? []).map((f) => f.key))));
    });
    this.store.set((s) => ({ ...s, outbox: outbox.items() }));
    // Files a closed page left waiting: read their bytes back from the device.
    const waiting = new Set(outbox.items().flatMap((i) => (i.files ?? []).filter((f) => !f.upload).map((f) => f.key)));
    void this.uploads.restore(waiting, this.keyPrefix).then(() => this.flush());
  }

  /** stop closes the outbox (it stays stored) and cancels a retry and the uploads going. */
  stop() {
    this.stopTimer();
    this.uploads.stopAll();
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

  /** add queues a message (with files to upload first) and returns its client_msg_id. */
  add(id: number, text: string, replyTo?: number, files: NewFile[] = []): string {
    if (!this.outbox) throw new Error('not started');
    const client_msg_id = newClientMsgId();
    const item: OutboxItem = { client_msg_id, conversation_id: id, text, created_at: new Date().toISOString(), ...(replyTo ? { reply_to: replyTo } : {}) };
    if (files.length) {
      item.files = files.map((f) => {
        const key = newFileKey(this.keyPrefix);
        this.uploads.keep(key, f.blob);
        const of: OutboxFile = { key, name: f.name, size: f.blob.size, type: f.blob.type || 'application/octet-stream' };
        if (f.width && f.height) Object.assign(of, { width: f.width, height: f.height });
        if (f.duration !== undefined && Number.isFinite(f.duration)) of.duration = f.duration;
        return of;
      });
    }
    this.outbox.add(item);
    return client_msg_id;
  }

  /** retry puts a refused message (or its refused files) back in line. */
  retry(clientMsgId: string) {
    const item = this.item(clientMsgId);
    if (!item) return;
    const files = item.files?.map((f) => (f.error && this.uploads.has(f.key) ? { ...f, error: undefined } : f));
    this.outbox?.update(clientMsgId, files ? { error: undefined, files } : { error: undefined });
    this.flush();
  }

  /** discard drops a message from the outbox, with its uploads. */
  discard(clientMsgId: string) {
    const item = this.item(clientMsgId);
    if (!item) return;
    for (const f of item.files ?? []) this.dropFile(f);
    this.outbox?.remove(clientMsgId);
  }

  /**
   * removeFile cancels one file of a waiting message (its upload stops, or
   * the server forgets it); a message left with neither files nor text goes.
   */
  removeFile(clientMsgId: string, key: string) {
    const item = this.item(clientMsgId);
    const f = item?.files?.find((x) => x.key === key);
    if (!item || !f || this.inFlight.has(clientMsgId)) return;
    this.dropFile(f);
    const files = item.files!.filter((x) => x.key !== key);
    if (files.length === 0 && item.text.trim() === '') this.outbox?.remove(clientMsgId);
    else this.outbox?.update(clientMsgId, { files });
    this.flush();
  }

  private dropFile(f: OutboxFile) {
    this.uploads.cancel(f.key);
    // Uploaded but never sent: tell the server (it would go after 24 h anyway).
    if (f.upload) api.deleteUpload(f.upload.id).catch(() => {});
  }

  private item(clientMsgId: string): OutboxItem | undefined {
    return this.outbox?.items().find((i) => i.client_msg_id === clientMsgId);
  }

  private patchFile(clientMsgId: string, key: string, patch: Partial<OutboxFile>) {
    const item = this.item(clientMsgId);
    if (!item?.files?.some((f) => f.key === key)) return;
    this.outbox?.update(clientMsgId, { files: item.files.map((f) => (f.key === key ? { ...f, ...patch } : f)) });
  }

  /**
   * needUploads starts what uploads it may for item and reports whether the
   * message must still wait for some.
   */
  private needUploads(item: OutboxItem): boolean {
    let waiting = false;
    for (const f of item.files ?? []) {
      if (f.upload) continue;
      waiting = true;
      if (f.error || this.uploads.isRunning(f.key)) continue;
      if (!this.uploads.has(f.key)) {
        if (this.uploads.busy) continue; // still reading it back
        this.patchFile(item.client_msg_id, f.key, { error: LOST_FILE });
        continue;
      }
      if (!this.uploads.free) break;
      const id = item.client_msg_id;
      this.uploads.start(f, (o) => this.uploaded(id, f.key, o));
    }
    return waiting;
  }

  private uploaded(clientMsgId: string, key: string, o: UploadOutcome) {
    if (o.ok) {
      const u = o.upload;
      const upload = { id: u.id, name: u.name, size: u.size, content_type: u.content_type, url: u.url, width: u.width, height: u.height, duration: u.duration, thumbnail_url: u.thumbnail_url };
      if (!this.item(clientMsgId)?.files?.some((f) => f.key === key)) {
        // Removed while its answer was on the way.
        api.deleteUpload(u.id).catch(() => {});
      } else this.patchFile(clientMsgId, key, { upload });
    } else {
      const e = o.error;
      const transient = !(e instanceof ApiError) || e.status === 0 || e.status === 429 || e.status >= 500;
      if (transient) {
        // The network or a busy server: try again shortly (or after the reconnect).
        const wait = Math.min(30_000, Math.max(1000, e instanceof ApiError && e.retryAfter ? e.retryAfter * 1000 : 3000));
        if (!this.retryTimer) this.retryTimer = setTimeout(() => ((this.retryTimer = null), this.flush()), wait);
        return;
      }
      this.patchFile(clientMsgId, key, { error: e.message || 'The file was not accepted.' });
    }
    this.flush();
  }

  /** settle takes messages of mine the server now holds out of the outbox. */
  settle(msgs: Message[], meId: number) {
    for (const m of msgs) if (m.sender_id === meId && m.client_msg_id && this.outbox?.has(m.client_msg_id)) this.outbox.remove(m.client_msg_id);
  }

  /** flush sends every waiting message that is not already on its way. */
  flush() {
    if (!this.outbox || !this.online()) return;
    const st = this.store.get();
    const held = new Set<number>();
    for (const item of this.outbox.items()) {
      if (item.error || this.inFlight.has(item.client_msg_id)) continue;
      const stored = st.messages[item.conversation_id]?.items.some((m) => m.client_msg_id === item.client_msg_id && m.sender_id === st.me?.id);
      if (stored) {
        this.outbox.remove(item.client_msg_id);
        continue;
      }
      if (held.has(item.conversation_id)) continue;
      if (this.needUploads(item)) {
        // Later messages of the conversation wait behind it (they keep their
        // order), unless a refused file holds it up.
        if (!item.files?.some((f) => f.error)) held.add(item.conversation_id);
        continue;
      }
      this.inFlight.add(item.client_msg_id);
      const id = item.client_msg_id;
      const fields: Record<string, unknown> = { conversation_id: item.conversation_id, client_msg_id: id, text: item.text };
      if (item.reply_to) fields.reply_to = item.reply_to;
      if (item.files?.length) fields.attachments = item.files.map((f) => f.upload!.id);
      this.request('send', fields).then(
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
