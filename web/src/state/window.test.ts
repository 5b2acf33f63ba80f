// A window of older history opened at a message (a search result, a quoted
// or a pinned message): kept apart from the live history until it reaches
// it, then joined, with no gap and no message twice.
import { describe, expect, it } from 'vitest';
import type { Message } from '../api/types';
import { conv, msg } from '../test/fakes';
import { applyMessages, closeWindow, contiguousTop, cursorFor, growWindow, holds, initialChatState, openWindow, shownMessages, upsertConversation, type ChatState } from './chat';

const range = (from: number, to: number): Message[] => Array.from({ length: to - from + 1 }, (_, i) => msg(7, from + i));
const seqs = (items: Message[] | undefined) => (items ?? []).map((m) => m.seq);

/** A conversation of 1,000 messages whose latest 50 (951..1000) are held. */
function live(): ChatState {
  let s = upsertConversation({ ...initialChatState(), me: { id: 1, username: 'alice', display_name: 'Alice' } }, conv(7, { last_seq: 1000 }));
  s = applyMessages(s, 7, range(951, 1000));
  return { ...s, messages: { ...s.messages, 7: { ...s.messages[7], hasOlder: true } } };
}

describe('a window opened at a message', () => {
  it('keeps a page far back apart from the live history, which stays the sync cursor', () => {
    const s = openWindow(live(), 7, { messages: range(476, 525), has_more_before: true, has_more_after: true });
    const cm = s.messages[7];
    expect(seqs(cm.window?.items)).toEqual(seqs(range(476, 525)));
    expect(cm.window?.hasOlder).toBe(true);
    expect(seqs(cm.items)).toEqual(seqs(range(951, 1000)));
    expect(cursorFor(s, 7).seq).toBe(1000);
    expect(contiguousTop(cm)).toBe(1000);
    expect(shownMessages(cm)).toMatchObject({ window: true, hasOlder: true });
    expect(holds(cm, 500)).toBe('window');
    expect(holds(cm, 960)).toBe('live');
    expect(holds(cm, 700)).toBeNull();
  });

  it('joins a page that reaches the live history at once', () => {
    const s = openWindow(live(), 7, { messages: range(902, 951), has_more_before: true, has_more_after: true });
    const cm = s.messages[7];
    expect(cm.window).toBeUndefined();
    expect(seqs(cm.items)).toEqual(seqs(range(902, 1000)));
    expect(cm.hasOlder).toBe(true);
    // Adjoining without overlap joins too.
    const t = openWindow(live(), 7, { messages: range(901, 950), has_more_before: false, has_more_after: true }).messages[7];
    expect(t.window).toBeUndefined();
    expect(seqs(t.items)).toEqual(seqs(range(901, 1000)));
    expect(t.hasOlder).toBe(false);
  });

  it('takes a page with nothing after it as the live history when none is held', () => {
    const empty = upsertConversation(initialChatState(), conv(7, { last_seq: 60 }));
    const cm = openWindow(empty, 7, { messages: range(11, 60), has_more_before: true, has_more_after: false }).messages[7];
    expect(cm.window).toBeUndefined();
    expect(seqs(cm.items)).toEqual(seqs(range(11, 60)));
    expect(cm.hasOlder).toBe(true);
    // With more after it, it waits for the latest page, and joins it then.
    let s = openWindow(empty, 7, { messages: range(1, 25), has_more_before: false, has_more_after: true });
    expect(seqs(s.messages[7].window?.items)).toEqual(seqs(range(1, 25)));
    s = applyMessages(s, 7, range(26, 60));
    expect(s.messages[7].window).toBeUndefined();
    expect(seqs(s.messages[7].items)).toEqual(seqs(range(1, 60)));
    expect(s.messages[7].hasOlder).toBe(false);
  });

  it('grows both ways page by page, and joins the live history once it reaches it', () => {
    let s = openWindow(live(), 7, { messages: range(476, 525), has_more_before: true, has_more_after: true });
    s = growWindow(s, 7, 'older', range(426, 475), true);
    expect(seqs(s.messages[7].window?.items)).toEqual(seqs(range(426, 525)));
    s = growWindow(s, 7, 'older', range(1, 425), false);
    expect(s.messages[7].window?.hasOlder).toBe(false);
    for (let from = 526; from < 926; from += 50) {
      s = growWindow(s, 7, 'newer', range(from, from + 49), true);
      expect(s.messages[7].window).toBeDefined();
      expect(s.messages[7].items[0].seq).toBe(951);
    }
    // 926..975 reaches 951: one list, nothing missing, nothing twice.
    s = growWindow(s, 7, 'newer', range(926, 975), true);
    const cm = s.messages[7];
    expect(cm.window).toBeUndefined();
    expect(seqs(cm.items)).toEqual(seqs(range(1, 1000)));
    expect(cm.hasOlder).toBe(false);
    expect(shownMessages(cm)).toMatchObject({ window: false, hasOlder: false });
  });

  it('joins when the newest page has nothing after it, even if no live history is held', () => {
    let s = openWindow(upsertConversation(initialChatState(), conv(7)), 7, { messages: range(1, 50), has_more_before: false, has_more_after: true });
    s = growWindow(s, 7, 'newer', range(51, 80), false);
    expect(s.messages[7].window).toBeUndefined();
    expect(seqs(s.messages[7].items)).toEqual(seqs(range(1, 80)));
  });

  it('refuses a page that does not adjoin it (a stale answer after another jump)', () => {
    const s = openWindow(live(), 7, { messages: range(476, 525), has_more_before: true, has_more_after: true });
    expect(growWindow(s, 7, 'newer', range(600, 649), true)).toBe(s);
    expect(growWindow(s, 7, 'older', range(300, 349), true)).toBe(s);
    expect(growWindow(closeWindow(s, 7), 7, 'newer', range(526, 575), true).messages[7].window).toBeUndefined();
  });

  it('takes edits of the messages it shows; live messages go to the live history', () => {
    let s = openWindow(live(), 7, { messages: range(476, 525), has_more_before: true, has_more_after: true });
    const edited = msg(7, 500, { mod: 2000, text: 'edited', edited_at: '2026-01-02T00:00:00Z' });
    s = applyMessages(s, 7, [edited, msg(7, 1001)]);
    const cm = s.messages[7];
    expect(cm.window?.items.find((m) => m.seq === 500)?.text).toBe('edited');
    expect(seqs(cm.window?.items)).toEqual(seqs(range(476, 525)));
    expect(seqs(cm.items)).toEqual(seqs(range(951, 1001)));
    expect(s.conversations[7].last_seq).toBe(1001);
  });

  it('is replaced by a jump elsewhere and dropped by closeWindow', () => {
    let s = openWindow(live(), 7, { messages: range(476, 525), has_more_before: true, has_more_after: true });
    s = openWindow(s, 7, { messages: range(76, 125), has_more_before: true, has_more_after: true });
    expect(seqs(s.messages[7].window?.items)).toEqual(seqs(range(76, 125)));
    s = closeWindow(s, 7);
    expect(s.messages[7].window).toBeUndefined();
    expect(seqs(s.messages[7].items)).toEqual(seqs(range(951, 1000)));
    expect(closeWindow(s, 7)).toBe(s);
  });
});
