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
