// The client's picture of the world and the pure functions that change it.
// Messages are kept per conversation, ordered and keyed by seq; edits and
// deletions replace a message when their mod is newer; receipts are
// high-water marks that only move forward.
import type { Attachment, Conversation, Member, Message, User } from '../api/types';

export interface ConvMessages {
  /**
   * Ascending by seq, one entry per seq: the live history, from the newest
   * message back (sync continues from it, so it has no gap).
   */
  items: Message[];
  /** Older history exists on the server before items[0]. */
  hasOlder: boolean;
  /**
   * Older history opened at one message (a search result, a quoted or a
   * pinned message) too far back to join items without loading everything
   * between: shown instead of items until it grows into them or is closed.
   */
  window?: MessageWindow;
}

/**
 * MessageWindow is a stretch of history around a message: ascending and
 * without a gap, and older than items with unloaded messages between (once
 * it reaches items it joins them; see openWindow, growWindow).
 */
export interface MessageWindow {
  items: Message[];
  /** Older history exists on the server before items[0]. */
  hasOlder: boolean;
}

export interface Presence {
  online: boolean;
  last_seen?: string | null;
}

export type ConnStatus = 'idle' | 'connecting' | 'syncing' | 'online' | 'offline' | 'ended';

export interface ConnectionState {
  status: ConnStatus;
  /** When the next reconnect attempt is due (ms since epoch), while offline. */
  retryAt: number | null;
  /** Failed attempts since the last successful sync. */
  attempts: number;
  /** A sync has completed at least once on this page. */
  everSynced: boolean;
}

/**
 * OutboxFile is a file a waiting message carries: its bytes are kept in the
 * page (realtime/uploads.ts) until uploaded; then upload holds what the
 * server made of it, and the message goes out with its id.
 */
export interface OutboxFile {
  /** This page's name for the file (its bytes and progress are kept under it). */
  key: string;
  name: string;
  size: number;
  type: string;
  /** An image's size (read here, for its place before it loads), a video's. */
  width?: number;
  height?: number;
  /** Seconds, for audio and video (a voice note's as recorded). */
  duration?: number;
  /** Set once uploaded. */
  upload?: Attachment;
  /** Set when the upload was refused (it waits for retry or removal). */
  error?: string;
}

export interface OutboxItem {
  client_msg_id: string;
  conversation_id: number;
  text: string;
  created_at: string;
  /** The seq of the message this one answers. */
  reply_to?: number;
  /** Set when the server refused the message for good (it is not retried). */
  error?: string;
  /** Files to upload before the message goes out, in order. */
  files?: OutboxFile[];
}

export interface ChatState {
  me: User | null;
  connection: ConnectionState;
  conversations: Record<number, Conversation>;
  messages: Record<number, ConvMessages>;
  members: Record<number, Member[]>;
  /** The conversation's change counter this client has caught up with. */
  cursorMod: Record<number, number>;
  /** conversation → user → when their typing indicator expires (ms epoch). */
  typing: Record<number, Record<number, number>>;
  presence: Record<number, Presence>;
  outbox: OutboxItem[];
}

export function initialChatState(): ChatState {
  return {
    me: null,
    connection: { status: 'idle', retryAt: null, attempts: 0, everSynced: false },
    conversations: {},
    messages: {},
    members: {},
    cursorMod: {},
    typing: {},
    presence: {},
    outbox: [],
  };
}

// ---- messages ----

/** timeOf parses an RFC 3339 time (fraction digits vary, so strings do not sort). */
export function timeOf(t: string | null | undefined): number {
  const v = t ? Date.parse(t) : NaN;
  return Number.isNaN(v) ? 0 : v;
}

function later(a: string | null | undefined, b: string | null | undefined): boolean {
  return timeOf(a) > timeOf(b);
}

/** newer reports whether b should replace a (same seq): a later change wins. */
function newer(a: Message, b: Message): boolean {
  return b.mod >= a.mod;
}

/**
 * mergeMessages merges incoming messages into a list ordered by seq. Each seq
 * appears once; of two versions of a message, the one with the higher mod
 * wins. Arrival order does not matter.
 */
export function mergeMessages(items: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return items;
  // Fast path: strictly ascending messages after everything held.
  const last = items.length ? items[items.length - 1].seq : 0;
  let ascending = true;
  let prev = last;
  for (const m of incoming) {
    if (m.seq <= prev) {
      ascending = false;
      break;
    }
    prev = m.seq;
  }
  if (ascending) return items.concat(incoming);
  const bySeq = new Map<number, Message>();
  for (const m of items) bySeq.set(m.seq, m);
  let changed = false;
  for (const m of incoming) {
    const had = bySeq.get(m.seq);
    if (!had || (had !== m && newer(had, m))) {
      bySeq.set(m.seq, m);
      changed = true;
    }
  }
  if (!changed) return items;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** maxSeq is the highest seq held for a conversation (0 when none). */
export function maxSeq(cm: ConvMessages | undefined): number {
  return cm && cm.items.length ? cm.items[cm.items.length - 1].seq : 0;
}

/**
 * contiguousTop is the highest seq such that every message from the first
 * held one up to it is held (0 when none): the cursor to sync from and the
 * seq to page history forward from, so a gap is refilled.
 */
export function contiguousTop(cm: ConvMessages | undefined): number {
  if (!cm || cm.items.length === 0) return 0;
  let top = cm.items[0].seq;
  for (let i = 1; i < cm.items.length; i++) {
    if (cm.items[i].seq !== top + 1) break;
    top = cm.items[i].seq;
  }
  return top;
}

export function cursorFor(s: ChatState, id: number): { seq: number; mod: number } {
  return { seq: contiguousTop(s.messages[id]), mod: s.cursorMod[id] ?? 0 };
}

function withUnread(c: Conversation): Conversation {
  const unread = Math.max(0, c.last_seq - (c.read_seq ?? 0));
  // Nothing unread: no unread mention either.
  const mentions = unread === 0 ? 0 : c.unread_mentions;
  return c.unread === unread && c.unread_mentions === mentions ? c : { ...c, unread, unread_mentions: mentions };
}

/** mentionsMe reports whether a message of someone else mentions the user. */
export function mentionsMe(m: Message, meId: number | undefined): boolean {
  return meId !== undefined && m.sender_id !== meId && !m.deleted_at && !!m.mentions?.includes(meId);
}

/** upsertConversation merges a conversation object into what is known. */
export function upsertConversation(s: ChatState, conv: Conversation): ChatState {
  const had = s.conversations[conv.id];
  let next: Conversation = had ? { ...had, ...conv } : { ...conv };
  if (had) {
    // Marks and counters only move forward, whatever order objects arrive in.
    next.last_seq = Math.max(had.last_seq, conv.last_seq);
    next.last_mod = Math.max(had.last_mod, conv.last_mod);
    next.read_seq = Math.max(had.read_seq ?? 0, conv.read_seq ?? 0);
    next.delivered_seq = Math.max(had.delivered_seq ?? 0, conv.delivered_seq ?? 0);
    if (had.last_message && (!conv.last_message || conv.last_message.seq < had.last_message.seq)) next.last_message = had.last_message;
    if (later(had.last_activity, conv.last_activity)) next.last_activity = had.last_activity;
    if (conv.role === undefined) next.role = had.role;
    if (conv.peer === undefined) next.peer = had.peer;
    // A conversation object always carries a group's photo: absent, there is none.
    if (conv.photo_url === undefined) delete next.photo_url;
  }
  next = withUnread(next);
  const presence = conv.peer && !(conv.peer.id in s.presence) ? { ...s.presence, [conv.peer.id]: { online: false, last_seen: conv.peer.last_seen } } : s.presence;
  return { ...s, conversations: { ...s.conversations, [conv.id]: next }, presence };
}

/**
 * applyMessages stores messages (new, edited or deleted) and moves the
 * conversation's summary forward: last message, activity, unread.
 */
export function applyMessages(s: ChatState, conversationId: number, msgs: Message[], opts: { moveCursor?: boolean } = {}): ChatState {
  if (msgs.length === 0) return s;
  const cm = s.messages[conversationId];
  // Changes to messages an open window holds go to the window.
  const win = cm?.window;
  const inWindow = (m: Message) => !!win && m.seq >= win.items[0].seq && m.seq <= win.items[win.items.length - 1].seq;
  const toWindow = win ? msgs.filter(inWindow) : [];
  const items = mergeMessages(cm?.items ?? [], toWindow.length ? msgs.filter((m) => !inWindow(m)) : msgs);
  const winItems = win && toWindow.length ? mergeMessages(win.items, toWindow) : win?.items;
  let next: ChatState = s;
  if (!cm || items !== cm.items || winItems !== win?.items) {
    // A conversation first seen through a live message may have older history.
    const hasOlder = cm ? cm.hasOlder : Math.min(...msgs.map((m) => m.seq)) > 1;
    const held: ConvMessages = win && winItems ? joinWindow({ items, hasOlder, window: { ...win, items: winItems } }) : { items, hasOlder };
    next = { ...s, messages: { ...s.messages, [conversationId]: held } };
  }
  const conv = next.conversations[conversationId];
  if (conv) {
    const c = { ...conv };
    for (const m of msgs) {
      // A new message that mentions me counts as an unread mention until read.
      if (m.seq > c.last_seq && m.seq > (c.read_seq ?? 0) && mentionsMe(m, s.me?.id)) c.unread_mentions = (c.unread_mentions ?? 0) + 1;
      if (m.seq > c.last_seq) c.last_seq = m.seq;
      if (m.mod > c.last_mod) c.last_mod = m.mod;
      if (!c.last_message || m.seq > c.last_message.seq || (m.seq === c.last_message.seq && m.mod >= c.last_message.mod)) {
        c.last_message = m;
        if (later(m.created_at, c.last_activity)) c.last_activity = m.created_at;
      }
    }
    const u = withUnread(c);
    const same = u.last_seq === conv.last_seq && u.last_mod === conv.last_mod && u.last_message === conv.last_message && u.last_activity === conv.last_activity && u.unread === conv.unread && u.unread_mentions === conv.unread_mentions;
    if (!same) next = { ...next, conversations: { ...next.conversations, [conversationId]: u } };
  }
  next = raiseSendersMarks(next, conversationId, msgs);
  // Live changes move the change cursor (a sync sets it itself: see applySync).
  const mod = Math.max(next.cursorMod[conversationId] ?? 0, ...msgs.map((m) => m.mod));
  if (opts.moveCursor !== false && conv && mod !== next.cursorMod[conversationId]) {
    // Only a conversation we have synced keeps a change cursor.
    if (conversationId in next.cursorMod) next = { ...next, cursorMod: { ...next.cursorMod, [conversationId]: mod } };
  }
  return next;
}

/**
 * raiseSendersMarks applies what a message implies: the server moves the
 * sender's delivered and read marks up to the message's seq when it stores
 * it (and sends no receipt event for that).
 */
function raiseSendersMarks(s: ChatState, id: number, msgs: Message[]): ChatState {
  const top = new Map<number, number>();
  for (const m of msgs) if (m.sender_id) top.set(m.sender_id, Math.max(top.get(m.sender_id) ?? 0, m.seq));
  let next = s;
  for (const [user, seq] of top) {
    next = applyReceipt(next, { conversation_id: id, user_id: user, delivered_seq: seq, read_seq: seq });
  }
  return next;
}

// ---- a window of older history, opened at a message ----

/** WindowPage is the page of history around a message (…/messages?around_seq). */
export interface WindowPage {
  messages: Message[];
  has_more_before: boolean;
  has_more_after: boolean;
}

/**
 * joinWindow makes a window part of the live history once nothing is
 * missing between them (or the live history is empty and the window
 * reaches the newest message: newestIn).
 */
function joinWindow(cm: ConvMessages, newestIn = false): ConvMessages {
  const w = cm.window;
  if (!w) return cm;
  if (w.items.length === 0) return { items: cm.items, hasOlder: cm.hasOlder };
  const top = w.items[w.items.length - 1].seq;
  const touches = cm.items.length > 0 ? cm.items[0].seq <= top + 1 : newestIn;
  if (!touches) return cm;
  const hasOlder = cm.items.length > 0 && cm.items[0].seq <= w.items[0].seq ? cm.hasOlder : w.hasOlder;
  return { items: mergeMessages(cm.items, w.items), hasOlder };
}

/**
 * openWindow shows the history around a message that is not held: the page
 * joins the live history when it reaches it, and otherwise replaces any
 * window open before.
 */
export function openWindow(s: ChatState, id: number, page: WindowPage): ChatState {
  if (page.messages.length === 0) return s;
  const cm = s.messages[id] ?? { items: [], hasOlder: false };
  const items = [...page.messages].sort((a, b) => a.seq - b.seq);
  const next = joinWindow({ items: cm.items, hasOlder: cm.hasOlder, window: { items, hasOlder: page.has_more_before } }, !page.has_more_after);
  return { ...s, messages: { ...s.messages, [id]: next } };
}

/**
 * growWindow adds a page of older or newer history to the open window
 * (hasMore: the server has more in that direction). A newer page that
 * reaches the live history joins the window to it.
 */
export function growWindow(s: ChatState, id: number, dir: 'older' | 'newer', msgs: Message[], hasMore: boolean): ChatState {
  const cm = s.messages[id];
  const w = cm?.window;
  if (!w || w.items.length === 0) return s;
  // Only a page that adjoins the window keeps it without a gap.
  const edge = dir === 'older' ? w.items[0].seq : w.items[w.items.length - 1].seq;
  const page = msgs.filter((m) => (dir === 'older' ? m.seq < edge : m.seq > edge));
  if (page.length > 0) {
    const far = dir === 'older' ? Math.max(...page.map((m) => m.seq)) : Math.min(...page.map((m) => m.seq));
    if (Math.abs(far - edge) !== 1) return s;
  }
  const window = { items: mergeMessages(w.items, page), hasOlder: dir === 'older' ? hasMore && page.length > 0 : w.hasOlder };
  const next = joinWindow({ ...cm, window }, dir === 'newer' && !hasMore);
  return { ...s, messages: { ...s.messages, [id]: next } };
}

/** closeWindow goes back to the live history. */
export function closeWindow(s: ChatState, id: number): ChatState {
  const cm = s.messages[id];
  if (!cm?.window) return s;
  return { ...s, messages: { ...s.messages, [id]: { items: cm.items, hasOlder: cm.hasOlder } } };
}

/** shownMessages is what a conversation shows: the open window, else the live history. */
export function shownMessages(cm: ConvMessages | undefined): { items: Message[]; hasOlder: boolean; window: boolean } | undefined {
  if (!cm) return undefined;
  if (cm.window) return { items: cm.window.items, hasOlder: cm.window.hasOlder, window: true };
  return { items: cm.items, hasOlder: cm.hasOlder, window: false };
}

/** holds tells whether a conversation's live history or open window has the message at seq. */
export function holds(cm: ConvMessages | undefined, seq: number): 'live' | 'window' | null {
  if (!cm) return null;
  const has = (items: Message[]) => items.length > 0 && seq >= items[0].seq && seq <= items[items.length - 1].seq && items.some((m) => m.seq === seq);
  if (has(cm.items)) return 'live';
  if (cm.window && has(cm.window.items)) return 'window';
  return null;
}

/** setHistory records whether older history exists, after a page is loaded. */
export function setHasOlder(s: ChatState, id: number, hasOlder: boolean): ChatState {
  const cm = s.messages[id] ?? { items: [], hasOlder };
  if (cm.hasOlder === hasOlder && s.messages[id]) return s;
  return { ...s, messages: { ...s.messages, [id]: { ...cm, hasOlder } } };
}

export interface SyncEvent {
  conversation: Conversation;
  messages: Message[];
  changes: Message[];
  members: Member[];
  has_more: boolean;
  /** More than one sync's worth of changes remain: sync again from the last change's mod. */
  changes_more?: boolean;
}

/**
 * applySync merges one conversation's sync event. fromCursor says whether the
 * client sent a cursor for it (else the messages are the latest page, and
 * has_more means older history exists).
 */
export function applySync(s: ChatState, ev: SyncEvent, fromCursor: boolean): ChatState {
  const id = ev.conversation.id;
  let next = upsertConversation(s, ev.conversation);
  if (!next.messages[id]) next = { ...next, messages: { ...next.messages, [id]: { items: [], hasOlder: false } } };
  next = applyMessages(next, id, [...ev.changes, ...ev.messages], { moveCursor: false });
  if (!fromCursor) next = setHasOlder(next, id, ev.has_more);
  // Caught up with every change, unless more remain: then only up to the
  // last change carried, so the next sync continues from there.
  const had = next.cursorMod[id] ?? 0;
  const mod = ev.changes_more && ev.changes.length > 0 ? Math.max(had, ...ev.changes.map((m) => m.mod)) : Math.max(had, ev.conversation.last_mod);
  next = { ...next, cursorMod: { ...next.cursorMod, [id]: mod } };
  if (ev.members) {
    // Large groups list only me: keep what else is known rather than forget it.
    const partial = ev.members.length < (ev.conversation.member_count ?? 0);
    next = partial ? mergeMembers(next, id, ev.members) : setMembers(next, id, ev.members);
  }
  return next;
}

export function setMembers(s: ChatState, id: number, members: Member[]): ChatState {
  // Keep the higher marks a receipt event may already have delivered.
  const old = new Map((s.members[id] ?? []).map((m) => [m.user_id, m]));
  const merged = members.map((m) => {
    const o = old.get(m.user_id);
    return o ? { ...m, delivered_seq: Math.max(m.delivered_seq, o.delivered_seq), read_seq: Math.max(m.read_seq, o.read_seq) } : m;
  });
  return { ...s, members: { ...s.members, [id]: merged } };
}

/** mergeMembers updates the listed members and keeps the others. */
export function mergeMembers(s: ChatState, id: number, members: Member[]): ChatState {
  const incoming = new Map(members.map((m) => [m.user_id, m]));
  const kept = (s.members[id] ?? []).filter((m) => !incoming.has(m.user_id));
  const next = setMembers(s, id, members);
  return { ...next, members: { ...next.members, [id]: [...kept, ...next.members[id]] } };
}

export function removeConversation(s: ChatState, id: number): ChatState {
  if (!(id in s.conversations) && !(id in s.messages)) return s;
  const drop = <V,>(r: Record<number, V>) => {
    if (!(id in r)) return r;
    const c = { ...r };
    delete c[id];
    return c;
  };
  return {
    ...s,
    conversations: drop(s.conversations),
    messages: drop(s.messages),
    members: drop(s.members),
    cursorMod: drop(s.cursorMod),
    typing: drop(s.typing),
  };
}

// ---- receipts ----

export interface ReceiptEvent {
  conversation_id: number;
  user_id: number;
  delivered_seq: number;
  read_seq: number;
}

/** applyReceipt raises a member's marks (never lowers them). */
export function applyReceipt(s: ChatState, r: ReceiptEvent): ChatState {
  let next = s;
  const list = s.members[r.conversation_id];
  if (list) {
    let changed = false;
    const members = list.map((m) => {
      if (m.user_id !== r.user_id) return m;
      const d = Math.max(m.delivered_seq, r.delivered_seq ?? 0);
      const rd = Math.max(m.read_seq, r.read_seq ?? 0);
      if (d === m.delivered_seq && rd === m.read_seq) return m;
      changed = true;
      return { ...m, delivered_seq: d, read_seq: rd };
    });
    if (changed) next = { ...next, members: { ...next.members, [r.conversation_id]: members } };
  }
  if (s.me && r.user_id === s.me.id) next = raiseOwnMarks(next, r.conversation_id, r.read_seq ?? 0, r.delivered_seq ?? 0);
  return next;
}

/** raiseOwnMarks moves this user's own read/delivered marks forward. */
export function raiseOwnMarks(s: ChatState, id: number, read: number, delivered: number): ChatState {
  const c = s.conversations[id];
  if (!c) return s;
  const rs = Math.max(c.read_seq ?? 0, read);
  const ds = Math.max(c.delivered_seq ?? 0, delivered, rs);
  if (rs === (c.read_seq ?? 0) && ds === (c.delivered_seq ?? 0)) return s;
  return { ...s, conversations: { ...s.conversations, [id]: withUnread({ ...c, read_seq: rs, delivered_seq: ds }) } };
}

export type MessageMark = { status: 'sent' | 'delivered' | 'read'; readBy: number; others: number };

/**
 * markOf tells the sender what became of their message: sent once stored,
 * delivered / read when the other member's marks reach its seq; in a group,
 * delivered when every other member holds it and readBy counts the others
 * who have read it.
 */
export function markOf(msg: Message, members: Member[] | undefined, meId: number): MessageMark {
  const others = (members ?? []).filter((m) => m.user_id !== meId);
  const readBy = others.filter((m) => m.read_seq >= msg.seq).length;
  const deliveredTo = others.filter((m) => m.delivered_seq >= msg.seq || m.read_seq >= msg.seq).length;
  let status: MessageMark['status'] = 'sent';
  if (others.length > 0 && readBy === others.length) status = 'read';
  else if (others.length > 0 && deliveredTo === others.length) status = 'delivered';
  return { status, readBy, others: others.length };
}

// ---- members, typing, presence ----

export function applyMemberChange(s: ChatState, id: number, change: string, member: Member): ChatState {
  if (s.me && member.user_id === s.me.id && (change === 'left' || change === 'removed')) return removeConversation(s, id);
  if (change === 'profile') return applyProfile(member.username.startsWith('~') ? applyDeletedAccount(s, member) : s, member.user_id, member.avatar_url);
  const list = s.members[id] ?? [];
  let members: Member[];
  if (change === 'left' || change === 'removed') members = list.filter((m) => m.user_id !== member.user_id);
  else if (list.some((m) => m.user_id === member.user_id)) members = list.map((m) => (m.user_id === member.user_id ? { ...m, ...member, delivered_seq: Math.max(m.delivered_seq, member.delivered_seq ?? 0), read_seq: Math.max(m.read_seq, member.read_seq ?? 0) } : m));
  else members = [...list, member];
  let next: ChatState = { ...s, members: { ...s.members, [id]: members } };
  const c = next.conversations[id];
  if (c && s.members[id] && c.member_count !== members.length) next = { ...next, conversations: { ...next.conversations, [id]: { ...c, member_count: members.length } } };
  if (s.me && member.user_id === s.me.id && c && change === 'role') next = { ...next, conversations: { ...next.conversations, [id]: { ...next.conversations[id], role: member.role } } };
  return next;
}

/**
 * applyProfile shows a person's new profile photo (or none) everywhere they
 * appear: me, the peer of a direct chat, the member lists.
 */
/**
 * applyDeletedAccount shows a person whose account was deleted (their
 * username is now ~id) as such in their direct chat: its name, and a peer
 * that takes no more messages.
 */
export function applyDeletedAccount(s: ChatState, member: Member): ChatState {
  let conversations = s.conversations;
  for (const c of Object.values(s.conversations)) {
    if (c.kind !== 'direct' || c.peer?.id !== member.user_id || c.peer.deleted) continue;
    const peer = { ...c.peer, username: member.username, display_name: member.display_name, deleted: true, accepting_messages: false };
    conversations = { ...conversations, [c.id]: { ...c, name: member.display_name, peer } };
  }
  return conversations === s.conversations ? s : { ...s, conversations };
}

export function applyProfile(s: ChatState, userId: number, avatarURL: string | undefined): ChatState {
  const withPhoto = <T extends { avatar_url?: string }>(x: T): T => {
    if (x.avatar_url === avatarURL) return x;
    const c = { ...x };
    if (avatarURL) c.avatar_url = avatarURL;
    else delete c.avatar_url;
    return c;
  };
  let next = s;
  if (s.me && s.me.id === userId) next = { ...next, me: withPhoto(s.me) };
  let conversations = next.conversations;
  for (const c of Object.values(next.conversations)) {
    if (c.peer?.id !== userId) continue;
    const peer = withPhoto(c.peer);
    if (peer !== c.peer) conversations = { ...conversations, [c.id]: { ...c, peer } };
  }
  let members = next.members;
  for (const [cid, list] of Object.entries(next.members)) {
    if (!list.some((m) => m.user_id === userId && m.avatar_url !== avatarURL)) continue;
    members = { ...members, [cid]: list.map((m) => (m.user_id === userId ? withPhoto(m) : m)) };
  }
  if (conversations === next.conversations && members === next.members) return next;
  return { ...next, conversations, members };
}

export function setTyping(s: ChatState, id: number, userId: number, until: number | null): ChatState {
  const cur = s.typing[id] ?? {};
  if (until === null) {
    if (!(userId in cur)) return s;
    const c = { ...cur };
    delete c[userId];
    return { ...s, typing: { ...s.typing, [id]: c } };
  }
  return { ...s, typing: { ...s.typing, [id]: { ...cur, [userId]: until } } };
}

export function setPresence(s: ChatState, userId: number, p: Presence): ChatState {
  return { ...s, presence: { ...s.presence, [userId]: { online: p.online, last_seen: p.last_seen ?? s.presence[userId]?.last_seen } } };
}

// ---- views ----

/** conversationsByActivity lists conversations, most recent activity first. */
export function conversationsByActivity(convs: Record<number, Conversation>): Conversation[] {
  return Object.values(convs).sort((a, b) => timeOf(b.last_activity) - timeOf(a.last_activity) || b.id - a.id);
}

/** pendingFor lists outbox items of a conversation not yet seen as stored. */
export function pendingFor(s: ChatState, id: number): OutboxItem[] {
  const items = s.outbox.filter((o) => o.conversation_id === id);
  if (items.length === 0) return items;
  const stored = new Set((s.messages[id]?.items ?? []).filter((m) => m.sender_id === s.me?.id && m.client_msg_id).map((m) => m.client_msg_id));
  return items.filter((o) => !stored.has(o.client_msg_id));
}
