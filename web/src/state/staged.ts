// Files chosen for the next message of each conversation (by the attach
// button, a drop onto the conversation, or a paste), before Send. They stay
// when another conversation is opened, like the text of a draft would. The
// limits are the server's (GET /features): a file over max_upload or past
// max_attachments is refused here with the reason, before any byte goes up.
import type { FileLimits } from '../api/types';
import { formatSize, measure, type FileMeasures } from '../lib/files';
import { createStore } from './store';

export interface StagedFile {
  key: string;
  file: Blob;
  name: string;
  /** Set once read (an image's size, a recording's length). */
  measures?: FileMeasures;
}

export interface Staged {
  files: StagedFile[];
  /** Why the last files offered were not all taken. */
  error?: string;
}

export const DEFAULT_LIMITS: FileLimits = { max_upload: 25 << 20, max_attachments: 10, max_image_pixels: 50_000_000 };

export const staged = createStore<Record<number, Staged>>({});

let counter = 0;

/** pastedName names a file that came without a name (a pasted screenshot). */
export function pastedName(type: string, now = new Date()): string {
  const ext = type.split('/')[1]?.replace('jpeg', 'jpg').replace(/[^a-z0-9]/gi, '') || 'bin';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `Pasted image ${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}.${ext}`;
}

/**
 * check decides which of the offered files can join those already chosen:
 * the ones that fit, and the reason for any refused.
 */
export function check(have: number, offered: { name: string; size: number }[], limits: FileLimits): { take: number[]; error?: string } {
  const take: number[] = [];
  const problems: string[] = [];
  let room = limits.max_attachments - have;
  offered.forEach((f, i) => {
    if (f.size === 0) problems.push(`${f.name} is empty.`);
    else if (f.size > limits.max_upload) problems.push(`${f.name} is ${formatSize(f.size)}; files can be at most ${formatSize(limits.max_upload)}.`);
    else if (room <= 0) {
      if (!problems.some((p) => p.startsWith('A message')))
        problems.push(`A message can carry at most ${limits.max_attachments} files.`);
    } else {
      take.push(i);
      room--;
    }
  });
  return { take, error: problems.length ? problems.join(' ') : undefined };
}

/** stage adds files to a conversation's next message, measuring each in the background. */
export function stage(id: number, files: (File | { blob: Blob; name: string; measures?: FileMeasures })[], limits: FileLimits = DEFAULT_LIMITS) {
  const items = files.map((f) => (f instanceof Blob ? { blob: f as Blob, name: (f as File).name || pastedName(f.type), measures: undefined as FileMeasures | undefined } : { blob: f.blob, name: f.name, measures: f.measures }));
  const have = staged.get()[id]?.files.length ?? 0;
  const { take, error } = check(
    have,
    items.map((f) => ({ name: f.name, size: f.blob.size })),
    limits,
  );
  const added: StagedFile[] = take.map((i) => ({ key: `s${++counter}`, file: items[i].blob, name: items[i].name, measures: items[i].measures }));
  staged.set((s) => ({ ...s, [id]: { files: [...(s[id]?.files ?? []), ...added], error } }));
  for (const f of added) {
    if (f.measures) continue;
    void measure(f.file).then((m) =>
      staged.set((s) => {
        const cur = s[id];
        if (!cur?.files.some((x) => x.key === f.key)) return s;
        return { ...s, [id]: { ...cur, files: cur.files.map((x) => (x.key === f.key ? { ...x, measures: m } : x)) } };
      }),
    );
  }
}

export function unstage(id: number, key: string) {
  staged.set((s) => {
    const cur = s[id];
    if (!cur) return s;
    return { ...s, [id]: { files: cur.files.filter((f) => f.key !== key) } };
  });
}

/** take empties a conversation's chosen files and returns them (measuring what was not yet). */
export async function take(id: number): Promise<{ blob: Blob; name: string; width?: number; height?: number; duration?: number }[]> {
  const files = staged.get()[id]?.files ?? [];
  staged.set((s) => ({ ...s, [id]: { files: [] } }));
  return Promise.all(files.map(async (f) => ({ blob: f.file, name: f.name, ...(f.measures ?? (await measure(f.file))) })));
}

export function clearError(id: number) {
  staged.set((s) => (s[id]?.error ? { ...s, [id]: { files: s[id].files } } : s));
}
