// What people read about files: sizes, durations, kinds, and what a file
// held in the page measures (an image's size, a recording's length).
import type { Attachment, Conversation } from '../api/types';

/** photoOf is the picture of a conversation: a group's photo, a direct chat's peer's profile photo. */
export function photoOf(conv: Pick<Conversation, 'kind' | 'photo_url' | 'peer'>): string | undefined {
  return conv.kind === 'group' ? conv.photo_url : (conv.peer?.avatar_url ?? undefined);
}

const units = ['KB', 'MB', 'GB'];

/** formatSize writes a byte count as people read it: 800 bytes, 12 KB, 3.4 MB. */
export function formatSize(n: number): string {
  if (n < 1000) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)} ${units[u]}`;
}

/** formatDuration writes seconds as m:ss (or h:mm:ss). */
export function formatDuration(seconds: number | undefined): string {
  const t = Math.max(0, Math.round(seconds ?? 0));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export type FileKind = 'image' | 'audio' | 'video' | 'file';

/** kindOf says how a file is shown: an image (with a thumbnail), audio or video played inline, or a card. */
export function kindOf(a: Pick<Attachment, 'content_type' | 'thumbnail_url'>): FileKind {
  if (a.thumbnail_url) return 'image';
  if (a.content_type.startsWith('audio/')) return 'audio';
  if (a.content_type.startsWith('video/')) return 'video';
  return 'file';
}

/** VOICE_PREFIX starts the name of every voice note recorded here. */
export const VOICE_PREFIX = 'Voice message';

export function isVoiceNote(a: Pick<Attachment, 'name' | 'content_type'>): boolean {
  return a.content_type.startsWith('audio/') && a.name.startsWith(VOICE_PREFIX);
}

/** describeFiles is a one-line summary of a message's files (for previews). */
export function describeFiles(files: Pick<Attachment, 'name' | 'content_type' | 'thumbnail_url' | 'duration'>[]): string {
  if (files.length === 0) return '';
  const images = files.filter((f) => kindOf(f) === 'image').length;
  if (images === files.length) return images === 1 ? '📷 Photo' : `📷 ${images} photos`;
  const f = files[0];
  if (files.length === 1) {
    if (isVoiceNote(f)) return `🎤 Voice message${f.duration ? ` (${formatDuration(f.duration)})` : ''}`;
    if (f.content_type.startsWith('video/')) return '🎬 Video';
    if (f.content_type.startsWith('audio/')) return `🎵 ${f.name}`;
    return `📎 ${f.name}`;
  }
  return `📎 ${files.length} files`;
}

/** downloadURL is a file's address that the server answers as a download. */
export function downloadURL(a: Pick<Attachment, 'url'>): string {
  return a.url + (a.url.includes('?') ? '&' : '?') + 'download=1';
}

/**
 * shownBox is the size an image is shown at in a message: at most maxW wide
 * and maxH tall, its aspect ratio kept but clamped (a very tall or wide
 * image is cropped to 1:2 or 2:1), so its place is known before it loads.
 */
export function shownBox(width: number | undefined, height: number | undefined, maxW = 288, maxH = 320): { width: number; height: number; crop: boolean } {
  if (!width || !height) return { width: Math.min(maxW, maxH), height: Math.min(maxW, maxH), crop: true };
  let ratio = width / height;
  const crop = ratio > 2 || ratio < 0.5;
  ratio = Math.min(2, Math.max(0.5, ratio));
  let w = Math.min(maxW, width);
  let h = w / ratio;
  if (h > maxH) {
    h = maxH;
    w = h * ratio;
  }
  // Tiny images stay small but readable.
  if (w < 48) w = 48;
  if (h < 48) h = 48;
  return { width: Math.round(w), height: Math.round(h), crop };
}

/** Measures of a file read in the page: an image's or video's size, audio or video length. */
export interface FileMeasures {
  width?: number;
  height?: number;
  duration?: number;
}

/**
 * measure reads what the page can of a file before it is sent: an image's
 * size (upright, as it will be shown), a video's size and length, an audio
 * file's length. Whatever it cannot read within a few seconds stays unknown.
 */
export async function measure(file: Blob): Promise<FileMeasures> {
  const type = file.type;
  try {
    if (type.startsWith('image/') && typeof createImageBitmap === 'function') {
      const b = await withTimeout(createImageBitmap(file), 4000);
      const m = { width: b.width, height: b.height };
      b.close();
      return m;
    }
    if (type.startsWith('video/') || type.startsWith('audio/')) {
      const el = document.createElement(type.startsWith('video/') ? 'video' : 'audio');
      el.preload = 'metadata';
      const url = URL.createObjectURL(file);
      try {
        el.src = url;
        await withTimeout(
          new Promise<void>((res, rej) => {
            el.onloadedmetadata = () => res();
            el.onerror = () => rej(new Error('unreadable'));
          }),
          4000,
        );
        const m: FileMeasures = {};
        if (Number.isFinite(el.duration)) m.duration = el.duration;
        if (el instanceof HTMLVideoElement && el.videoWidth > 0) Object.assign(m, { width: el.videoWidth, height: el.videoHeight });
        return m;
      } finally {
        URL.revokeObjectURL(url);
      }
    }
  } catch {
    /* unknown */
  }
  return {};
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((res, rej) => {
    const t = setTimeout(() => rej(new Error('timeout')), ms);
    p.then(
      (v) => (clearTimeout(t), res(v)),
      (e) => (clearTimeout(t), rej(e)),
    );
  });
}
