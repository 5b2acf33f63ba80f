import { describe, expect, it } from 'vitest';
import { conv, member, msg } from '../test/fakes';
import {
  applyMessages,
  applyReceipt,
  applySync,
  contiguousTop,
  conversationsByActivity,
  cursorFor,
  initialChatState,
  markOf,
  mergeMessages,
  pendingFor,
  upsertConversation,
  type ChatState,
} from './chat';

const me = { id: 1, username: 'alice', display_name: 'Alice' };

function withConv(c = conv(7)): ChatState {
  return upsertConversation({ ...initialChatState(), me }, c);
}

describe('mergeMessages', () => {
  it('orders by seq whatever the arrival order, one entry per seq', () => {
    let items = mergeMessages([], [msg(7, 3)]);
    items = mergeMessages(items, [msg(7, 1), msg(7, 5)]);
    items = mergeMessages(items, [msg(7, 2), msg(7, 4), msg(7, 3)]);
    expect(items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('applies edits and deletions by mod, ignoring stale versions', () => {
    const orig = msg(7, 2, { mod: 2, text: 'v1' });
    const edited = msg(7, 2, { mod: 9, text: 'v2', edited_at: '2026-01-01T13:00:00Z' });
    const deleted = msg(7, 2, { mod: 11, text: '', deleted_at: '2026-01-01T13:01:00Z' });
    let items = mergeMessages([msg(7, 1), orig, msg(7, 3)], [deleted]);
    items = mergeMessages(items, [edited]); // late, older change
    items = mergeMessages(items, [orig]); // duplicate original
    expect(items).toHaveLength(3);
    expect(items[1].text).toBe('');
    expect(items[1].deleted_at).toBeTruthy();
  });

  it('returns the same array when nothing changes', () => {
    const items = [msg(7, 1), msg(7, 2)];
    expect(mergeMessages(items, [items[0]])).toBe(items);
  });
});

describe('conversation state', () => {
  it('keeps the summary and unread count in step with messages', () => {
    let s = withConv(conv(7, { read_seq: 0 }));
    s = applyMessages(s, 7, [msg(7, 2), msg(7, 1)]);
    const c = s.conversations[7];
    expect(c.last_seq).toBe(2);
    expect(c.last_message?.seq).toBe(2);
    expect(c.unread).toBe(2);
    expect(c.last_activity).toBe(msg(7, 2).created_at);
  });

  it('merges a sync from a cursor: new messages, changes, members, cursors', () => {
    let s = withConv(conv(7, { last_seq: 3, last_mod: 3 }));
    s = applyMessages(s, 7, [msg(7, 1), msg(7, 2), msg(7, 3)]);
    s = applySync(
      s,
      {
        conversation: conv(7, { last_seq: 5, last_mod: 7, read_seq: 3 }),
        messages: [msg(7, 4), msg(7, 5)],
        changes: [msg(7, 2, { mod: 6, text: 'edited', edited_at: '2026-01-01T13:00:00Z' })],
        members: [member(7, 1, { read_seq: 3, delivered_seq: 3 }), member(7, 2, { read_seq: 5, delivered_seq: 5 })],
        has_more: false,
      },
      true,
    );
    expect(s.messages[7].items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s.messages[7].items[1].text).toBe('edited');
    expect(cursorFor(s, 7)).toEqual({ seq: 5, mod: 7 });
    expect(s.conversations[7].unread).toBe(2);
    expect(s.members[7]).toHaveLength(2);
  });

  it('when more changes remain, the change cursor stops at the last change carried', () => {
    let s = withConv(conv(7, { last_seq: 3, last_mod: 3 }));
    s = applySync(s, { conversation: conv(7, { last_seq: 3, last_mod: 3 }), messages: [msg(7, 1), msg(7, 2), msg(7, 3)], changes: [], members: [], has_more: false }, false);
    s = applySync(
      s,
      { conversation: conv(7, { last_seq: 4, last_mod: 900 }), messages: [msg(7, 4, { mod: 900 })], changes: [msg(7, 1, { mod: 400, text: 'e1' }), msg(7, 2, { mod: 410, text: 'e2' })], members: [], has_more: false, changes_more: true },
      true,
    );
    expect(cursorFor(s, 7)).toEqual({ seq: 4, mod: 410 });
    // The follow-up sync finishes: now caught up with last_mod.
    s = applySync(s, { conversation: conv(7, { last_seq: 4, last_mod: 900 }), messages: [], changes: [msg(7, 3, { mod: 420, text: 'e3' })], members: [], has_more: false, changes_more: false }, true);
    expect(cursorFor(s, 7)).toEqual({ seq: 4, mod: 900 });
    expect(s.messages[7].items.map((m) => m.text)).toEqual(['e1', 'e2', 'e3', 'message 4']);
  });

  it('a large group\'s sync lists only me: other members are kept', () => {
    let s = withConv(conv(7, { member_count: 150 }));
    s = { ...s, members: { 7: [member(7, 1), member(7, 2, { read_seq: 5 }), member(7, 3)] } };
    s = applySync(s, { conversation: conv(7, { member_count: 150 }), messages: [], changes: [], members: [member(7, 1, { read_seq: 9 })], has_more: false }, true);
    expect(s.members[7].map((m) => m.user_id).sort()).toEqual([1, 2, 3]);
    expect(s.members[7].find((m) => m.user_id === 1)?.read_seq).toBe(9);
  });

  it('dedupes a live event that the sync also carried', () => {
    let s = withConv();
    s = applyMessages(s, 7, [msg(7, 1)]);
    s = applySync(s, { conversation: conv(7, { last_seq: 2, last_mod: 2 }), messages: [msg(7, 2)], changes: [], members: [], has_more: false }, true);
    s = applyMessages(s, 7, [msg(7, 2)]);
    expect(s.messages[7].items.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('a first sync (no cursor) records whether older history exists', () => {
    const s = applySync(withConv(), { conversation: conv(7, { last_seq: 80, last_mod: 80 }), messages: [msg(7, 79), msg(7, 80)], changes: [], members: [], has_more: true }, false);
    expect(s.messages[7].hasOlder).toBe(true);
  });

  it('cursors stop below a gap so the next sync refills it', () => {
    const s = applyMessages(withConv(), 7, [msg(7, 1), msg(7, 2), msg(7, 4)]);
    expect(contiguousTop(s.messages[7])).toBe(2);
  });

  it('orders conversations by activity, newest first', () => {
    let s = withConv(conv(1, { last_activity: '2026-01-01T10:00:00Z' }));
    s = upsertConversation(s, conv(2, { last_activity: '2026-01-01T11:00:00.5Z' }));
    s = upsertConversation(s, conv(3, { last_activity: '2026-01-01T11:00:00.123456Z' }));
    expect(conversationsByActivity(s.conversations).map((c) => c.id)).toEqual([2, 3, 1]);
    s = applyMessages(s, 1, [msg(1, 1, { created_at: '2026-01-02T00:00:00Z' })]);
    expect(conversationsByActivity(s.conversations)[0].id).toBe(1);
  });

  it('hides pending outbox messages once the server has them', () => {
    let s = withConv();
    s = { ...s, outbox: [{ client_msg_id: 'c-a', conversation_id: 7, text: 'hi', created_at: '' }, { client_msg_id: 'c-b', conversation_id: 7, text: 'yo', created_at: '' }] };
    s = applyMessages(s, 7, [msg(7, 1, { sender_id: 1, client_msg_id: 'c-a' })]);
    expect(pendingFor(s, 7).map((o) => o.client_msg_id)).toEqual(['c-b']);
  });
});

describe('receipts', () => {
  const mine = msg(7, 3, { sender_id: 1 });

  it('direct: sent, then delivered, then read', () => {
    let s = withConv(conv(7, { kind: 'direct' }));
    s = { ...s, members: { 7: [member(7, 1), member(7, 2)] } };
    expect(markOf(mine, s.members[7], 1).status).toBe('sent');
    s = applyReceipt(s, { conversation_id: 7, user_id: 2, delivered_seq: 3, read_seq: 0 });
    expect(markOf(mine, s.members[7], 1).status).toBe('delivered');
    s = applyReceipt(s, { conversation_id: 7, user_id: 2, delivered_seq: 3, read_seq: 5 });
    expect(markOf(mine, s.members[7], 1).status).toBe('read');
  });

  it('marks never move back', () => {
    let s: ChatState = { ...withConv(), members: { 7: [member(7, 1), member(7, 2, { delivered_seq: 5, read_seq: 4 })] } };
    s = applyReceipt(s, { conversation_id: 7, user_id: 2, delivered_seq: 2, read_seq: 1 });
    expect(s.members[7][1]).toMatchObject({ delivered_seq: 5, read_seq: 4 });
  });

  it('groups: read by k of the others', () => {
    let s: ChatState = { ...withConv(), members: { 7: [member(7, 1), member(7, 2), member(7, 3), member(7, 4)] } };
    s = applyReceipt(s, { conversation_id: 7, user_id: 2, delivered_seq: 3, read_seq: 3 });
    s = applyReceipt(s, { conversation_id: 7, user_id: 3, delivered_seq: 3, read_seq: 2 });
    expect(markOf(mine, s.members[7], 1)).toEqual({ status: 'sent', readBy: 1, others: 3 });
    s = applyReceipt(s, { conversation_id: 7, user_id: 4, delivered_seq: 9, read_seq: 9 });
    s = applyReceipt(s, { conversation_id: 7, user_id: 3, delivered_seq: 9, read_seq: 2 });
    expect(markOf(mine, s.members[7], 1)).toEqual({ status: 'delivered', readBy: 2, others: 3 });
    s = applyReceipt(s, { conversation_id: 7, user_id: 3, delivered_seq: 9, read_seq: 9 });
    expect(markOf(mine, s.members[7], 1)).toEqual({ status: 'read', readBy: 3, others: 3 });
  });

  it('a message raises its sender\'s marks, as the server does when storing it', () => {
    let s: ChatState = { ...withConv(conv(7, { read_seq: 0 })), members: { 7: [member(7, 1), member(7, 2, { delivered_seq: 1, read_seq: 1 })] } };
    s = applyMessages(s, 7, [msg(7, 1), msg(7, 2, { sender_id: 1 }), msg(7, 3, { sender_id: 2 })]);
    // Bob sent 3: he has read my 2.
    expect(markOf(msg(7, 2, { sender_id: 1 }), s.members[7], 1).status).toBe('read');
    expect(s.members[7].find((m) => m.user_id === 2)).toMatchObject({ delivered_seq: 3, read_seq: 3 });
    // I sent 2: I have read up to 2; only Bob's 3 is unread.
    expect(s.conversations[7]).toMatchObject({ read_seq: 2, unread: 1 });
  });

  it('my own receipt from another device lowers my unread count', () => {
    let s = applyMessages(withConv(), 7, [msg(7, 1), msg(7, 2), msg(7, 3)]);
    expect(s.conversations[7].unread).toBe(3);
    s = applyReceipt(s, { conversation_id: 7, user_id: 1, delivered_seq: 3, read_seq: 2 });
    expect(s.conversations[7].unread).toBe(1);
  });
});

describe('unread mentions', () => {
  it('counts new messages of others that mention me until they are read', () => {
    let s = withConv(conv(7, { last_seq: 2, read_seq: 2, unread_mentions: 0 }));
    s = applyMessages(s, 7, [msg(7, 3, { mentions: [1] })]);
    s = applyMessages(s, 7, [msg(7, 4, { mentions: [5] })]); // someone else
    s = applyMessages(s, 7, [msg(7, 3, { mentions: [1], mod: 9 })]); // an edit of one counted
    expect(s.conversations[7].unread_mentions).toBe(1);
    s = applyMessages(s, 7, [msg(7, 5, { mentions: [1] })]);
    expect(s.conversations[7].unread_mentions).toBe(2);
    s = applyReceipt(s, { conversation_id: 7, user_id: 1, delivered_seq: 5, read_seq: 5 });
    expect(s.conversations[7].unread).toBe(0);
    expect(s.conversations[7].unread_mentions).toBe(0);
  });

  it('ends when I write (sending reads everything before)', () => {
    let s = withConv(conv(7, { last_seq: 2, read_seq: 2, unread_mentions: 0 }));
    s = applyMessages(s, 7, [msg(7, 3, { mentions: [1] })]);
    s = applyMessages(s, 7, [msg(7, 4, { mentions: [1], sender_id: 1 })]);
    expect(s.conversations[7].unread_mentions).toBe(0);
  });
});
