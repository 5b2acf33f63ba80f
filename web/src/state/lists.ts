// Pinned messages per conversation and my chat list settings, kept in step
// with the server: fetched when needed (a conversation opened, the app
// (re)connected) and followed by the pins and chat_list events.
import { api } from '../api/http';
import type { ChatListEntry, Conversation, Pin } from '../api/types';
import { client } from '../app';
import { mutedUntil } from '../lib/notifyLevel';
import { timeOf } from './chat';
import { createStore, useStore } from './store';

export interface ListsState {
  pins: Record<number, Pin[]>;
  chatList: Record<number, ChatListEntry>;
}

export const lists = createStore<ListsState>({ pins: {}, chatList: {} });

export function setPins(id: number, pins: Pin[]) {
  lists.set((s) => ({ ...s, pins: { ...s.pins, [id]: pins } }));
}

export function setEntry(e: ChatListEntry) {
  lists.set((s) => ({ ...s, chatList: { ...s.chatList, [e.conversation_id]: e } }));
}

/** loadPins fetches a conversation's pins (when it is opened). */
export async function loadPins(id: number) {
  try {
    setPins(id, (await api.pins(id)).pins);
  } catch {
    /* shown again on the next open */
  }
}

/** loadChatList fetches my chat list settings. */
export async function loadChatList() {
  try {
    const { chat_list } = await api.chatList();
    lists.set((s) => ({ ...s, chatList: Object.fromEntries(chat_list.map((e) => [e.conversation_id, e])) }));
  } catch {
    /* loaded again on the next sync */
  }
}

/** updateChatList changes my settings of a conversation. */
export async function updateChatList(id: number, patch: { pinned?: boolean; archived?: boolean; marked_unread?: boolean }) {
  setEntry((await api.setChatList(id, patch)).entry);
}

let watching = false;
/** watchLists follows the events (once per page). */
export function watchLists() {
  if (watching) return;
  watching = true;
  client.onEvent((ev) => {
    if (ev.ev === 'pins') setPins(ev.conversation_id, ev.pins);
    else if (ev.ev === 'chat_list') setEntry(ev.entry);
    else if (ev.ev === 'synced') {
      void loadChatList();
      for (const id of Object.keys(lists.get().pins)) void loadPins(Number(id));
    }
  });
}

export function usePins(id: number): Pin[] | undefined {
  return useStore(lists, (s) => s.pins[id]);
}

export function useChatList(): Record<number, ChatListEntry> {
  return useStore(lists, (s) => s.chatList);
}

/**
 * archived tells whether a conversation shows among the archived: archived,
 * and no message came after it was archived (unless it is muted).
 */
export function archived(c: Conversation, e: ChatListEntry | undefined): boolean {
  if (!e?.archived_at) return false;
  if (mutedUntil(c) !== null) return true;
  return timeOf(c.last_message?.created_at ?? c.last_activity) <= timeOf(e.archived_at);
}

/** orderChats puts pinned conversations first (the latest pinned first), then the rest as given. */
export function orderChats(list: Conversation[], entries: Record<number, ChatListEntry>): Conversation[] {
  const pinned = list.filter((c) => entries[c.id]?.pinned_at).sort((a, b) => timeOf(entries[b.id].pinned_at) - timeOf(entries[a.id].pinned_at));
  return [...pinned, ...list.filter((c) => !entries[c.id]?.pinned_at)];
}
