// Jumping to a message through History.openAt against a server's paging
// (…/messages with around_seq, before_seq, after_seq as docs/protocol.md
// says): a page around it, then only the pages scrolled to.
import { describe, expect, it } from 'vitest';
import type { Message } from '../api/types';
import { applyMessages, initialChatState, upsertConversation, type ChatState } from '../state/chat';
import { createStore } from '../state/store';
import { conv, msg } from '../test/fakes';
import { History, type HistoryFetcher } from './history';

const N = 1000;
const all = Array.from({ length: N }, (_, i) => msg(7, i + 1));

/** server answers history requests over all, and counts the messages it sent. */
function server() {
  const sent = { messages: 0, calls: [] as string[] };
  const fetch: HistoryFetcher = async (_id, q) => {
    const limit = q.limit ?? 50;
    let page: Message[];
    let more: Record<string, boolean>;
    if (q.around_seq !== undefined) {
      const from = Math.max(1, q.around_seq - Math.floor(limit / 2));
      page = all.filter((m) => m.seq >= from).slice(0, limit);
      more = { has_more_before: from > 1, has_more_after: page[page.length - 1].seq < N };
      sent.calls.push(`around ${q.around_seq}`);
    } else if (q.before_seq !== undefined) {
      const older = all.filter((m) => m.seq < q.before_seq!);
      page = older.slice(-limit);
      more = { has_more: older.length > limit };
      sent.calls.push(`before ${q.before_seq}`);
    } else {
      const newer = all.filter((m) => m.seq > (q.after_seq ?? 0));
      page = newer.slice(0, limit);
      more = { has_more: newer.length > limit };
      sent.calls.push(`after ${q.after_seq}`);
    }
    sent.messages += page.length;
    return { messages: page, ...more };
  };
  return { fetch, sent };
}

function setup() {
  let s: ChatState = upsertConversation(initialChatState(), conv(7, { last_seq: N }));
  s = applyMessages(s, 7, all.slice(-50));
  s = { ...s, messages: { ...s.messages, 7: { ...s.messages[7], hasOlder: true } } };
  const store = createStore(s);
  const srv = server();
  const got: number[] = [];
  const history = new History(store, srv.fetch, (_id, msgs) => got.push(...msgs.map((m) => m.seq)));
  return { store, srv, history, got };
}

describe('History.openAt', () => {
  it('loads one page around a message far back, not the history between', async () => {
    const { store, srv, history } = setup();
    expect(await history.openAt(7, 100)).toBe(true);
    expect(srv.sent.calls).toEqual(['around 100']);
    expect(srv.sent.messages).toBe(50);
    const cm = store.get().messages[7];
    expect(cm.window?.items.map((m) => m.seq)).toEqual(all.slice(74, 124).map((m) => m.seq));
    expect(cm.items[0].seq).toBe(951);
  });

  it('loads nothing for a message held, and leaves a window for one the live history holds', async () => {
    const { store, srv, history } = setup();
    await history.openAt(7, 100);
    expect(await history.openAt(7, 110)).toBe(true);
    expect(await history.openAt(7, 990)).toBe(true);
    expect(srv.sent.calls).toEqual(['around 100']);
    expect(store.get().messages[7].window).toBeUndefined();
  });

  it('scrolls both ways page by page and joins the live history without a gap', async () => {
    const { store, srv, history } = setup();
    await history.openAt(7, 100);
    await history.loadOlder(7);
    await history.loadOlder(7);
    expect(store.get().messages[7].window?.hasOlder).toBe(false);
    let pages = 0;
    while (store.get().messages[7].window && pages < 100) {
      await history.loadNewer(7);
      pages++;
    }
    const cm = store.get().messages[7];
    expect(cm.window).toBeUndefined();
    expect(cm.items.map((m) => m.seq)).toEqual(all.map((m) => m.seq));
    expect(cm.hasOlder).toBe(false);
    // 125..950 in pages of 50: 17 pages, each asked for once.
    expect(pages).toBe(17);
    expect(srv.sent.calls.filter((c) => c.startsWith('after'))).toHaveLength(17);
  });

  it('drops the page of a jump overtaken by another jump or by going back to the latest', async () => {
    const { store, srv } = setup();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const fetch = srv.fetch;
    const slow = new History(store, async (id, q) => {
      if (q.around_seq === 100) await held;
      return fetch(id, q);
    }, () => {});
    const first = slow.openAt(7, 100);
    await slow.openAt(7, 500);
    release();
    expect(await first).toBe(false);
    expect(store.get().messages[7].window?.items.some((m) => m.seq === 500)).toBe(true);
    expect(store.get().messages[7].window?.items.some((m) => m.seq === 100)).toBe(false);

    let release2!: () => void;
    const held2 = new Promise<void>((r) => (release2 = r));
    const slower = new History(store, async (id, q) => {
      await held2;
      return fetch(id, q);
    }, () => {});
    const late = slower.openAt(7, 300);
    slower.closeWindow(7);
    release2();
    expect(await late).toBe(false);
    expect(store.get().messages[7].window).toBeUndefined();
  });

  it('says when the message cannot be loaded', async () => {
    const { history } = setup();
    await expect(history.openAt(7, N + 5)).resolves.toBe(false);
  });
});
