// A person's notification settings for a conversation, as docs/protocol.md
// ("Notifications") states them: the level in force (default: all in direct
// chats and groups of at most 25 members, mentions above), mute, and whether
// a message passes them.
import type { Conversation, Message, NotifyLevel } from '../api/types';

/** The largest group whose members are told of every message by default (parley.NotifyAllMaxMembers). */
export const NOTIFY_ALL_MAX_MEMBERS = 25;

/** defaultLevel is what "default" means in this conversation. */
export function defaultLevel(conv: Pick<Conversation, 'kind' | 'member_count'>): 'all' | 'mentions' {
  return conv.kind === 'group' && conv.member_count > NOTIFY_ALL_MAX_MEMBERS ? 'mentions' : 'all';
}

/** chosenLevel is the level the person chose ('default' when none). */
export function chosenLevel(conv: Pick<Conversation, 'notify'>): NotifyLevel {
  const l = conv.notify?.level;
  return l === 'all' || l === 'mentions' || l === 'off' ? l : 'default';
}

/** effectiveLevel is the level in force. */
export function effectiveLevel(conv: Pick<Conversation, 'kind' | 'member_count' | 'notify'>): 'all' | 'mentions' | 'off' {
  const l = chosenLevel(conv);
  return l === 'default' ? defaultLevel(conv) : l;
}

/** mutedUntil is when the mute ends (ms since epoch), or null when not muted at now. */
export function mutedUntil(conv: Pick<Conversation, 'notify'>, now = Date.now()): number | null {
  const t = conv.notify?.muted_until ? Date.parse(conv.notify.muted_until) : NaN;
  return Number.isFinite(t) && t > now ? t : null;
}

/** A mute that ends after this year is "always" (the server writes 9999-12-31). */
export function mutedForever(until: number): boolean {
  return new Date(until).getUTCFullYear() >= 9999;
}

/** silenced reports whether nothing of the conversation notifies (muted, or level off). */
export function silenced(conv: Pick<Conversation, 'kind' | 'member_count' | 'notify'>, now = Date.now()): boolean {
  return mutedUntil(conv, now) !== null || effectiveLevel(conv) === 'off';
}

/**
 * passes reports whether a new message notifies me: a text message of
 * someone else, in a conversation not muted, at level all, or at level
 * mentions when it mentions me.
 */
export function passes(conv: Pick<Conversation, 'kind' | 'member_count' | 'notify'>, m: Message, meId: number, now = Date.now()): boolean {
  if (m.sender_id === meId || m.kind !== 'text' || m.deleted_at) return false;
  if (mutedUntil(conv, now) !== null) return false;
  const level = effectiveLevel(conv);
  if (level === 'all') return true;
  return level === 'mentions' && !!m.mentions?.includes(meId);
}
