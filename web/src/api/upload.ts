// Uploading a file (POST /api/v1/uploads) with progress and cancel. fetch
// reports no upload progress, so this one request uses XMLHttpRequest; its
// answers become the same ApiError as every other request's.
import { API, failure, networkError, parseJSON } from './http';
import type { Upload } from './types';

export interface UploadMeta {
  name: string;
  /** Seconds (audio and video, as measured here). */
  duration?: number;
  /** A video's size, as measured here (the server reads images' itself). */
  width?: number;
  height?: number;
}

export interface UploadHandle {
  done: Promise<Upload>;
  abort(): void;
}

/** UploadAborted is how a cancelled upload's promise rejects. */
export class UploadAborted extends Error {
  constructor() {
    super('Upload cancelled');
    this.name = 'UploadAborted';
  }
}

/** uploadQuery is the query string POST /uploads takes for a file's name and measures. */
export function uploadQuery(meta: UploadMeta): string {
  const p = new URLSearchParams({ name: meta.name });
  if (meta.duration !== undefined && Number.isFinite(meta.duration) && meta.duration >= 0) p.set('duration', String(Math.min(86400, Math.round(meta.duration * 10) / 10)));
  if (meta.width && meta.height && meta.width > 0 && meta.height > 0) {
    p.set('width', String(Math.min(100000, Math.round(meta.width))));
    p.set('height', String(Math.min(100000, Math.round(meta.height))));
  }
  return p.toString();
}

/**
 * upload sends one file's bytes, raw, and reports progress (bytes sent of
 * the total) as it goes. abort() cancels it: done then rejects with
 * UploadAborted.
 */
export function upload(file: Blob, meta: UploadMeta, onProgress?: (loaded: number, total: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Upload>((resolve, reject) => {
    xhr.open('POST', `${API}/uploads?${uploadQuery(meta)}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const body = parseJSON(xhr.responseText) as { upload?: Upload } | undefined;
        if (body?.upload) resolve(body.upload);
        else reject(failure(500, '', null));
        return;
      }
      reject(failure(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')));
    };
    xhr.onerror = () => reject(networkError());
    xhr.ontimeout = () => reject(networkError());
    xhr.onabort = () => reject(new UploadAborted());
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
