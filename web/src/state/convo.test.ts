import { describe, expect, it } from 'vitest';
import { conv, msg } from '../test/fakes';
import { applyMessages, initialChatState, upsertConversation, type ChatState } from './chat';
import { applyReaction, previewOf, quoteText, whoReacted } from './convo';

const me = { id: 1, username: 'alice', display_name: 'Alice' };

function held(): ChatState {
  const s = upsertConversation({ ...initialChatState(), me }, conv(7));
  return applyMessages(s, 7, [msg(7, 1, { mod: 1 }), msg(7, 2, { mod: 2 })]);
}

describe('applyReaction', () => {
  const ev = (mod: number, count: number) => ({ ev: 'reaction' as const, conversation_id: 7, seq: 1, mod, user_id: 5, emoji: '👍', on: true, reactions: count ? [{ emoji: '👍', count, users: [5] }] : [] });

  it('takes a newer event, ignores a repeated or older one', () => {
    let s = applyReaction(held(), ev(10, 1));
    expect(s.messages[7].items[0].reactions).toEqual([{ emoji: '👍', count: 1, users: [5] }]);
    expect(s.messages[7].items[0].mod).toBe(10);
    const same = applyReaction(s, ev(10, 2));
    expect(same).toBe(s);
    s = applyReaction(s, ev(12, 0));
    expect(s.messages[7].items[0].reactions).toBeUndefined();
  });

  it('leaves a message not held to history', () => {
    const s = held();
    expect(applyReaction(s, { ...ev(10, 1), seq: 99 })).toBe(s);
  });
});

describe('quotes', () => {
  it('shows the first line, a photo, a file, or a deleted message', () => {
    expect(quoteText(previewOf(msg(7, 1, { text: '\n  first line \nsecond' })))).toBe('first line');
    expect(quoteText({ seq: 1, kind: 'text', text: '', attachments: 1, content_type: 'image/jpeg', name: 'a.jpg' })).toBe('Photo');
    expect(quoteText({ seq: 1, kind: 'text', text: '', attachments: 1, content_type: 'application/pdf', name: 'plan.pdf' })).toBe('plan.pdf');
    expect(quoteText(previewOf(msg(7, 1, { deleted_at: '2026-01-01T00:00:00Z', text: '' })))).toBe('Deleted message');
    expect([...previewOf(msg(7, 1, { text: 'x'.repeat(150) })).text]).toHaveLength(100);
  });
});

describe('whoReacted', () => {
  const name = (id: number) => ({ 5: 'Bob', 6: 'Carol' })[id] ?? 'Someone';
  it('names me first and counts the others', () => {
    expect(whoReacted([5, 1], 2, name, 1)).toBe('You and Bob');
    expect(whoReacted([5], 1, name, 1)).toBe('Bob');
    expect(whoReacted([5, 6, 1], 3, name, 1)).toBe('You, Bob and Carol');
    expect(whoReacted([5, 6], 25, name, 1)).toBe('Bob, Carol and 23 others');
  });
});
