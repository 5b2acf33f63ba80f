// Living in a conversation, as the client sees it: reactions applied by
// their mod, what a reply shows of the message it answers, and who reacted.
import type { Message, ReactionEvent, ReplyPreview } from '../api/types';
import type { ChatState } from './chat';

/**
 * applyReaction puts a reaction event's reactions on the message it names,
 * when the event is newer than the message held (events and sync may repeat
 * a change); a message not held is left to history and sync.
 */
export function applyReaction(s: ChatState, ev: ReactionEvent): ChatState {
  const cm = s.messages[ev.conversation_id];
  if (!cm) return s;
  const i = cm.items.findIndex((m) => m.seq === ev.seq);
  if (i < 0 || cm.items[i].mod >= ev.mod) return s;
  const items = cm.items.slice();
  items[i] = { ...items[i], mod: ev.mod, reactions: ev.reactions.length ? ev.reactions : undefined };
  let next: ChatState = { ...s, messages: { ...s.messages, [ev.conversation_id]: { ...cm, items } } };
  const c = next.conversations[ev.conversation_id];
  if (c?.last_message?.seq === ev.seq) next = { ...next, conversations: { ...next.conversations, [c.id]: { ...c, last_message: items[i] } } };
  return next;
}

/** previewOf is what a reply to m shows of it (as the server makes it). */
export function previewOf(m: Message): ReplyPreview {
  if (m.deleted_at) return { seq: m.seq, sender: m.sender, kind: m.kind, text: '', deleted: true };
  const line = m.text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const chars = [...line];
  const text = chars.length > 100 ? chars.slice(0, 99).join('').trimEnd() + '…' : line;
  const a = m.attachments ?? [];
  return { seq: m.seq, sender: m.sender, kind: m.kind, text, attachments: a.length || undefined, content_type: a[0]?.content_type, name: a[0]?.name };
}

/** quoteText is the line a quoted message shows: its first line, or what its first file is. */
export function quoteText(p: ReplyPreview): string {
  if (p.deleted) return 'Deleted message';
  if (p.text) return p.text;
  const t = p.content_type ?? '';
  if (t.startsWith('image/')) return p.attachments && p.attachments > 1 ? `${p.attachments} photos` : 'Photo';
  if (t.startsWith('video/')) return 'Video';
  if (t.startsWith('audio/')) return 'Voice message';
  if (p.attachments) return p.name || 'File';
  return 'Message';
}

/** whoReacted names the people of a reaction: "You, Alice and 3 others". */
export function whoReacted(users: number[], count: number, name: (id: number) => string, meId?: number): string {
  const names = [...users].sort((a, b) => (a === meId ? -1 : b === meId ? 1 : 0)).map((u) => (u === meId ? 'You' : name(u)));
  const others = count - names.length;
  if (others > 0) return `${names.join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
