import { describe, expect, it } from 'vitest';
import type { Conversation, Message } from '../api/types';
import { defaultLevel, effectiveLevel, mutedForever, mutedUntil, passes, silenced } from './notifyLevel';
import { pageNotice } from './pageNotify';

const now = Date.parse('2026-12-06T10:00:00Z');
const group = (member_count: number, notify?: Conversation['notify']) => ({ id: 7, kind: 'group' as const, name: 'Climbing', member_count, notify });
const direct = (notify?: Conversation['notify']) => ({ id: 3, kind: 'direct' as const, name: 'Bob', member_count: 2, notify });
const msg = (over: Partial<Message> = {}): Message => ({ id: 1, conversation_id: 7, seq: 5, mod: 5, sender_id: 2, sender: { id: 2, username: 'bob', display_name: 'Bob' }, kind: 'text', text: 'hello', created_at: '2026-12-06T10:00:00Z', ...over });

describe('notification levels', () => {
  it('defaults to all in direct chats and groups of at most 25, mentions above', () => {
    expect(defaultLevel(direct())).toBe('all');
    expect(defaultLevel(group(25))).toBe('all');
    expect(defaultLevel(group(26))).toBe('mentions');
    expect(effectiveLevel(group(26, { level: 'default' }))).toBe('mentions');
    expect(effectiveLevel(group(26, { level: '' }))).toBe('mentions');
    expect(effectiveLevel(group(26, { level: 'all' }))).toBe('all');
    expect(effectiveLevel(direct({ level: 'off' }))).toBe('off');
  });
  it('is muted until muted_until, always at 9999', () => {
    expect(mutedUntil(group(3, { level: 'all', muted_until: '2026-12-06T11:00:00Z' }), now)).toBe(Date.parse('2026-12-06T11:00:00Z'));
    expect(mutedUntil(group(3, { level: 'all', muted_until: '2026-12-06T09:00:00Z' }), now)).toBeNull();
    expect(mutedUntil(group(3, { level: 'all' }), now)).toBeNull();
    const always = mutedUntil(group(3, { level: 'all', muted_until: '9999-12-31T00:00:00Z' }), now)!;
    expect(mutedForever(always)).toBe(true);
    expect(silenced(direct({ level: 'off' }), now)).toBe(true);
    expect(silenced(direct({ level: 'all' }), now)).toBe(false);
  });
  it('lets through what the level allows, never my own messages, nothing while muted', () => {
    expect(passes(direct(), msg(), 1, now)).toBe(true);
    expect(passes(direct(), msg({ sender_id: 1 }), 1, now)).toBe(false);
    expect(passes(direct(), msg({ kind: 'system' }), 1, now)).toBe(false);
    expect(passes(group(30), msg(), 1, now)).toBe(false);
    expect(passes(group(30), msg({ mentions: [1] }), 1, now)).toBe(true);
    expect(passes(group(3, { level: 'mentions' }), msg({ mentions: [4] }), 1, now)).toBe(false);
    expect(passes(group(3, { level: 'off' }), msg({ mentions: [1] }), 1, now)).toBe(false);
    expect(passes(group(3, { level: 'all', muted_until: '2026-12-06T11:00:00Z' }), msg({ mentions: [1] }), 1, now)).toBe(false);
  });
});

describe('pageNotice', () => {
  it('names the sender and the group, tags the conversation, folds a burst', () => {
    expect(pageNotice(group(3), msg(), false, 1)).toEqual({ title: 'Climbing: Bob', body: 'hello', tag: 'conversation-7', path: '/c/7' });
    expect(pageNotice(direct(), msg({ conversation_id: 3, sender: undefined }), false, 1)).toMatchObject({ title: 'Bob', tag: 'conversation-3' });
    expect(pageNotice(group(3), msg({ text: 'third' }), false, 3).body).toBe('3 new messages\nthird');
  });
  it('says "New message" when I hide message text', () => {
    expect(pageNotice(group(3), msg(), true, 1).body).toBe('New message');
    expect(pageNotice(group(3), msg(), true, 2).body).toBe('2 new messages');
  });
});
