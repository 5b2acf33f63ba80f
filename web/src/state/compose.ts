// What is being written in each conversation, beside the text box: the
// message being answered. (The text itself is the composer's.)
import type { Message } from '../api/types';
import { createStore, useStore } from './store';

export interface ComposeState {
  /** conversation → the message the next one answers. */
  replyTo: Record<number, Message>;
}

export const compose = createStore<ComposeState>({ replyTo: {} });

export function setReplyTo(id: number, m: Message | null) {
  compose.set((s) => {
    const replyTo = { ...s.replyTo };
    if (m) replyTo[id] = m;
    else delete replyTo[id];
    return { ...s, replyTo };
  });
}

export function useReplyTo(id: number): Message | undefined {
  return useStore(compose, (s) => s.replyTo[id]);
}

// ---- drafts: what was written and not sent, per conversation, kept across reloads ----

const DRAFTS_KEY = 'parley.drafts';

function storedDrafts(): Record<string, string> {
  try {
    const v = JSON.parse(window.localStorage.getItem(DRAFTS_KEY) ?? '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export const drafts = createStore<Record<string, string>>(typeof window === 'undefined' ? {} : storedDrafts());

function draftKey(meId: number | undefined, id: number) {
  return `${meId ?? 0}:${id}`;
}

export function draftOf(meId: number | undefined, id: number): string {
  return drafts.get()[draftKey(meId, id)] ?? '';
}

export function saveDraft(meId: number | undefined, id: number, text: string) {
  const key = draftKey(meId, id);
  if ((drafts.get()[key] ?? '') === text) return;
  drafts.set((d) => {
    const next = { ...d };
    if (text.trim()) next[key] = text;
    else delete next[key];
    return next;
  });
  try {
    window.localStorage.setItem(DRAFTS_KEY, JSON.stringify(drafts.get()));
  } catch {
    /* storage full or off: the draft lives as long as the page */
  }
}

export function useDraft(meId: number | undefined, id: number): string {
  return useStore(drafts, (d) => d[draftKey(meId, id)] ?? '');
}

// ---- jumps: a part of the page (the pinned bar) asks the message list to show a message ----

export interface JumpRequest {
  id: number;
  seq: number;
  /** Tells two requests for the same message apart. */
  n: number;
}

export const jumps = createStore<JumpRequest | null>(null);

export function requestJump(id: number, seq: number) {
  jumps.set((j) => ({ id, seq, n: (j?.n ?? 0) + 1 }));
}
