// Uploads: the files of messages waiting in the outbox. Their bytes are kept
// in this page (a Blob per file, under the file's key) until the server has
// them; progress is its own small store, so a progress event re-renders only
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

/** The outcome of one upload, as the Sender hears it. */
export type UploadOutcome = { ok: true; upload: Upload } | { ok: false; error: unknown };

export class Uploads {
  /** Progress of the files going up now, by key. */
  readonly progress: Store<Record<string, Progress>> = createStore({});
  private blobs = new Map<string, Blob>();
  private running = new Map<string, UploadHandle>();
  private uploadFn: UploadFn;

  constructor(uploadFn: UploadFn = realUpload) {
    this.uploadFn = uploadFn;
  }

  /** keep holds a file's bytes until it is uploaded or dropped. */
  keep(key: string, blob: Blob) {
    this.blobs.set(key, blob);
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
        this.blobs.delete(key);
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

  /** retain drops the bytes (and stops the uploads) of every file not in keys. */
  retain(keys: Set<string>) {
    for (const k of [...this.running.keys()]) if (!keys.has(k)) this.cancel(k);
    for (const k of [...this.blobs.keys()]) if (!keys.has(k)) this.blobs.delete(k);
  }

  /** stopAll cancels every upload going (the connection or the session ended); the bytes stay. */
  stopAll() {
    for (const k of [...this.running.keys()]) this.cancel(k);
  }
}
