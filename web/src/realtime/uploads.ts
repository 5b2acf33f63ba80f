// Uploads: the files of messages waiting in the outbox. Their bytes are kept
// in this page (a Blob per file, under the file's key) and, where the browser
// has IndexedDB, on the device too (BlobKeeper), so a message with files
// written offline survives closing the page; both go once the server has the
// file. Progress is its own small store, so a progress event re-renders only
// the bars and never rewrites the stored outbox. At most MAX_RUNNING files go
// up at once; the Sender decides when (only while online) and records each
// finished upload in the outbox, so a message goes out once with all its ids.
import { upload as realUpload, UploadAborted, type UploadHandle, type UploadMeta } from '../api/upload';
import type { Upload } from '../api/types';
import type { OutboxFile } from '../state/chat';
import { createStore, type Store } from '../state/store';

export interface Progress {
  loaded: number;
  total: number;
}

export type UploadFn = (file: Blob, meta: UploadMeta, onProgress?: (loaded: number, total: number) => void) => UploadHandle;

const MAX_RUNNING = 3;

/** BlobKeeper keeps files' bytes on the device across page loads. */
export interface BlobKeeper {
  put(key: string, blob: Blob): Promise<void>;
  get(key: string): Promise<Blob | undefined>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

const DB = 'parley-files';
const STORE = 'blobs';

/** idbKeeper keeps bytes in IndexedDB (null where there is none). */
export function idbKeeper(): BlobKeeper | null {
  if (typeof indexedDB === 'undefined') return null;
  let db: Promise<IDBDatabase> | null = null;
  const open = () =>
    (db ??= new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    }));
  const run = <T,>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> =>
    open().then(
      (d) =>
        new Promise<T>((res, rej) => {
          const tx = d.transaction(STORE, mode);
          const req = fn(tx.objectStore(STORE));
          tx.oncomplete = () => res(req.result as T);
          tx.onerror = () => rej(tx.error);
          tx.onabort = () => rej(tx.error);
        }),
    );
  return {
    put: (key, blob) => run<void>('readwrite', (s) => s.put(blob, key)).then(() => undefined),
    get: (key) => run<Blob | undefined>('readonly', (s) => s.get(key)),
    delete: (key) => run<void>('readwrite', (s) => s.delete(key)).then(() => undefined),
    keys: () => run<IDBValidKey[]>('readonly', (s) => s.getAllKeys()).then((ks) => ks.map(String)),
  };
}

/** The outcome of one upload, as the Sender hears it. */
export type UploadOutcome = { ok: true; upload: Upload } | { ok: false; error: unknown };

export class Uploads {
  /** Progress of the files going up now, by key. */
  readonly progress: Store<Record<string, Progress>> = createStore({});
  private blobs = new Map<string, Blob>();
  private running = new Map<string, UploadHandle>();
  private uploadFn: UploadFn;
  private keeper: BlobKeeper | null;
  private restoring: Promise<void> | null = null;

  constructor(uploadFn: UploadFn = realUpload, keeper: BlobKeeper | null = null) {
    this.uploadFn = uploadFn;
    this.keeper = keeper;
  }

  /** keep holds a file's bytes until it is uploaded or dropped (on the device too, when it can). */
  keep(key: string, blob: Blob) {
    this.blobs.set(key, blob);
    this.keeper?.put(key, blob).catch(() => {
      /* full or refused: the bytes stay for this page only */
    });
  }

  /**
   * restore reads back the bytes kept on the device for keys (files of
   * messages a closed page left in the outbox), and forgets the others
   * starting with prefix (the account's).
   */
  restore(keys: Set<string>, prefix: string): Promise<void> {
    const k = this.keeper;
    if (!k) return Promise.resolve();
    this.restoring = (async () => {
      try {
        for (const key of await k.keys()) {
          if (!key.startsWith(prefix)) continue; // another account's
          if (!keys.has(key)) {
            void k.delete(key).catch(() => {});
            continue;
          }
          if (this.blobs.has(key)) continue;
          const b = await k.get(key);
          if (b) this.blobs.set(key, b);
        }
      } catch {
        /* unreadable: those files say they were not kept */
      } finally {
        this.restoring = null;
      }
    })();
    return this.restoring;
  }

  /** busy reports whether bytes are still being read back from the device. */
  get busy(): boolean {
    return this.restoring !== null;
  }

  /** blob is a file's bytes, while kept (for previews). */
  blob(key: string): Blob | undefined {
    return this.blobs.get(key);
  }

  has(key: string): boolean {
    return this.blobs.has(key);
  }

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** free reports whether another upload may start now. */
  get free(): boolean {
    return this.running.size < MAX_RUNNING;
  }

  /**
   * start uploads one file whose bytes are kept, and calls done once with
   * the outcome (never for a cancelled upload). False when it cannot start
   * (no bytes, already running, or MAX_RUNNING going up).
   */
  start(f: OutboxFile, done: (o: UploadOutcome) => void): boolean {
    const blob = this.blobs.get(f.key);
    if (!blob || this.running.has(f.key) || !this.free) return false;
    const key = f.key;
    const setProgress = (loaded: number, total: number) => this.progress.set((p) => ({ ...p, [key]: { loaded, total } }));
    setProgress(0, blob.size);
    const h = this.uploadFn(blob, { name: f.name, duration: f.duration, width: f.type.startsWith('video/') ? f.width : undefined, height: f.type.startsWith('video/') ? f.height : undefined }, setProgress);
    this.running.set(key, h);
    h.done.then(
      (upload) => {
        if (this.running.get(key) !== h) return;
        this.running.delete(key);
        this.forget(key);
        this.clearProgress(key);
        done({ ok: true, upload });
      },
      (error) => {
        if (this.running.get(key) !== h) return;
        this.running.delete(key);
        this.clearProgress(key);
        if (error instanceof UploadAborted) return;
        done({ ok: false, error });
      },
    );
    return true;
  }

  private clearProgress(key: string) {
    this.progress.set((p) => {
      if (!(key in p)) return p;
      const c = { ...p };
      delete c[key];
      return c;
    });
  }

  /** cancel stops a file's upload, if it is going up. */
  cancel(key: string) {
    const h = this.running.get(key);
    if (!h) return;
    this.running.delete(key);
    this.clearProgress(key);
    h.abort();
  }

  private forget(key: string) {
    this.blobs.delete(key);
    this.keeper?.delete(key).catch(() => {});
  }

  /** retain drops the bytes (and stops the uploads) of every file not in keys. */
  retain(keys: Set<string>) {
    for (const k of [...this.running.keys()]) if (!keys.has(k)) this.cancel(k);
    for (const k of [...this.blobs.keys()]) if (!keys.has(k)) this.forget(k);
  }

  /** stopAll cancels every upload going (the connection or the session ended); the bytes stay. */
  stopAll() {
    for (const k of [...this.running.keys()]) this.cancel(k);
  }
}
