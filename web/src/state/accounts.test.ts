import { describe, expect, it } from 'vitest';
import { conv, member } from '../test/fakes';
import { applyMemberChange, initialChatState, upsertConversation, type ChatState } from './chat';

describe('a deleted account', () => {
  it('turns its direct chat read-only and its name into “Deleted account” when its profile event comes', () => {
    let s: ChatState = { ...initialChatState(), me: { id: 1, username: 'me', display_name: 'Me' } };
    s = upsertConversation(s, conv(5, { kind: 'direct', name: 'Bob', peer: { id: 2, username: 'bob', display_name: 'Bob', accepting_messages: true } }));
    s = upsertConversation(s, conv(7, { kind: 'direct', name: 'Carol', peer: { id: 3, username: 'carol', display_name: 'Carol', accepting_messages: true } }));
    s = applyMemberChange(s, 5, 'profile', member(5, 2, { username: '~2', display_name: 'Deleted account' }));
    expect(s.conversations[5].name).toBe('Deleted account');
    expect(s.conversations[5].peer).toMatchObject({ username: '~2', display_name: 'Deleted account', deleted: true, accepting_messages: false });
    expect(s.conversations[7].peer?.deleted).toBeUndefined();
    // An ordinary profile change leaves names alone.
    const before = s.conversations[7];
    s = applyMemberChange(s, 7, 'profile', member(7, 3, { avatar_url: '/a?v=1' }));
    expect(s.conversations[7].name).toBe(before.name);
    expect(s.conversations[7].peer?.deleted).toBeUndefined();
  });
});
