import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { conv, member, msg, sockets, type FakeSocket } from '../test/fakes';
import { initialChatState, type ChatState } from '../state/chat';
import { createStore, type Store } from '../state/store';
import { backoffDelay, RealtimeClient } from './client';

const me = { id: 1, username: 'alice', display_name: 'Alice' };

let store: Store<ChatState>;
let socks: ReturnType<typeof sockets>;
let client: RealtimeClient;
let history: ReturnType<typeof vi.fn>;
let ended: ReturnType<typeof vi.fn>;

function makeClient() {
  return new RealtimeClient({
    store,
    url: 'ws://test/api/v1/ws',
    socket: socks.factory,
    storage: localStorage,
    random: () => 0.5,
    history: history as never,
    onSessionEnded: ended as never,
    watchNetwork: true,
  });
}

/** handshake plays the server's side of hello + sync for the current socket. */
function handshake(ws: FakeSocket, events: unknown[] = []) {
  ws.open();
  ws.receive({ ev: 'hello', user: me, session_id: 1, conn_id: 'n1-1' });
  const sync = ws.last('sync');
  ws.receive(...events, { ev: 'synced' }, { re: sync.id, ok: true, conversations: events.length });
  return sync;
}

function syncEv(c = conv(7), messages = [msg(7, 1)], members = [member(7, 1), member(7, 2)]) {
  return { ev: 'sync', conversation: c, messages, changes: [], members, has_more: false };
}

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  store = createStore(initialChatState());
  socks = sockets();
  history = vi.fn(async () => ({ messages: [], has_more: false }));
  ended = vi.fn();
  client = makeClient();
});

afterEach(() => {
  client.stop();
  vi.useRealTimers();
});

describe('connection and sync', () => {
  it('syncs after hello and goes online', async () => {
    client.start(me);
    expect(store.get().connection.status).toBe('connecting');
    const sync = handshake(socks.current, [syncEv(conv(7, { last_seq: 1, last_mod: 1 }))]);
    expect(sync.cursors).toEqual({});
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get().connection.status).toBe('online');
    expect(store.get().messages[7].items.map((m) => m.seq)).toEqual([1]);
    expect(store.get().members[7]).toHaveLength(2);
  });

  it('handles several objects in one frame (reply and events together)', async () => {
    client.start(me);
    const ws = socks.current;
    ws.open();
    ws.receive({ ev: 'hello', user: me, session_id: 1, conn_id: 'x' });
    const sync = ws.last('sync');
    // One frame: sync event, synced, reply, a live message and a presence.
    ws.receive(syncEv(conv(7, { last_seq: 1 })), { ev: 'synced' }, { re: sync.id, ok: true, conversations: 1 }, { ev: 'message', change: 'new', message: msg(7, 2) }, { ev: 'presence', user_id: 2, online: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get().messages[7].items.map((m) => m.seq)).toEqual([1, 2]);
    expect(store.get().presence[2].online).toBe(true);
    expect(store.get().connection.status).toBe('online');
  });

  it('reconnects with growing, jittered backoff and resyncs from its cursors', async () => {
    client.start(me);
    handshake(socks.current, [syncEv(conv(7, { last_seq: 3, last_mod: 5 }), [msg(7, 1), msg(7, 2), msg(7, 3)])]);
    await vi.advanceTimersByTimeAsync(0);

    socks.current.drop(1006);
    const c1 = store.get().connection;
    expect(c1.status).toBe('offline');
    expect(c1.attempts).toBe(1);
    expect(socks.list).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(backoffDelay(1, () => 0.5));
    expect(socks.list).toHaveLength(2);
    socks.current.drop(1006); // fails again: waits longer
    expect(store.get().connection.attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(backoffDelay(1, () => 0.5));
    expect(socks.list).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(backoffDelay(2, () => 0.5));
    expect(socks.list).toHaveLength(3);

    const ws = socks.current;
    ws.open();
    ws.receive({ ev: 'hello', user: me, session_id: 1, conn_id: 'x' });
    const sync = ws.last('sync');
    expect(sync.cursors).toEqual({ '7': { seq: 3, mod: 5 } });
    // What was missed arrives, plus an edit of a message already held.
    ws.receive(
      { ev: 'sync', conversation: conv(7, { last_seq: 4, last_mod: 7 }), messages: [msg(7, 4)], changes: [msg(7, 2, { mod: 7, text: 'edited' })], members: [member(7, 1), member(7, 2)], has_more: false },
      { ev: 'synced' },
      { re: sync.id, ok: true },
    );
    await vi.advanceTimersByTimeAsync(0);
    const items = store.get().messages[7].items;
    expect(items.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(items[1].text).toBe('edited');
    expect(store.get().connection).toMatchObject({ status: 'online', attempts: 0 });
  });

  it('pages history when a sync says more messages remain', async () => {
    client.start(me);
    handshake(socks.current, [syncEv(conv(7, { last_seq: 1 }), [msg(7, 1)])]);
    await vi.advanceTimersByTimeAsync(0);
    socks.current.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    history.mockResolvedValueOnce({ messages: [msg(7, 3), msg(7, 4)], has_more: false });
    const ws = socks.current;
    ws.open();
    ws.receive({ ev: 'hello', user: me, session_id: 1, conn_id: 'x' });
    const sync = ws.last('sync');
    ws.receive({ ev: 'sync', conversation: conv(7, { last_seq: 4 }), messages: [msg(7, 2)], changes: [], members: [], has_more: true }, { ev: 'synced' }, { re: sync.id, ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(history).toHaveBeenCalledWith(7, { after_seq: 2, limit: 200 });
    expect(store.get().messages[7].items.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('syncs again from the last change when the server says more changes remain', async () => {
    client.start(me);
    handshake(socks.current, [syncEv(conv(7, { last_seq: 2, last_mod: 2 }), [msg(7, 1), msg(7, 2)])]);
    await vi.advanceTimersByTimeAsync(0);
    socks.current.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    const ws = socks.current;
    ws.open();
    ws.receive({ ev: 'hello', user: me, session_id: 1, conn_id: 'x' });
    const first = ws.last('sync');
    expect(first.cursors).toEqual({ '7': { seq: 2, mod: 2 } });
    ws.receive(
      { ev: 'sync', conversation: conv(7, { last_seq: 2, last_mod: 500 }), messages: [], changes: [msg(7, 1, { mod: 300, text: 'edited' })], members: [], has_more: false, changes_more: true },
      { ev: 'synced' },
      { re: first.id, ok: true },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('sync')).toHaveLength(2);
    expect(ws.last('sync').cursors).toEqual({ '7': { seq: 2, mod: 300 } });
  });

  it('drops conversations the sync no longer lists', async () => {
    client.start(me);
    handshake(socks.current, [syncEv(conv(7)), syncEv(conv(8), [msg(8, 1)])]);
    await vi.advanceTimersByTimeAsync(0);
    socks.current.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    handshake(socks.current, [syncEv(conv(7))]);
    await vi.advanceTimersByTimeAsync(0);
    expect(Object.keys(store.get().conversations)).toEqual(['7']);
  });

  it('goes to login when the server ends the session (4001)', async () => {
    client.start(me);
    handshake(socks.current, []);
    await vi.advanceTimersByTimeAsync(0);
    socks.current.drop(4001);
    expect(store.get().connection.status).toBe('ended');
    expect(ended).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(socks.list).toHaveLength(1);
  });

  it('gives the socket up at once when the browser goes offline, and comes back on online', async () => {
    client.start(me);
    handshake(socks.current, []);
    await vi.advanceTimersByTimeAsync(0);
    window.dispatchEvent(new Event('offline'));
    expect(store.get().connection.status).toBe('offline');
    window.dispatchEvent(new Event('online'));
    expect(socks.list).toHaveLength(2);
    expect(store.get().connection.status).toBe('connecting');
  });
});

describe('extension', () => {
  it('passes events it does not own (calls) to listeners', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, []);
    await vi.advanceTimersByTimeAsync(0);
    const got: unknown[] = [];
    const off = client.onEvent((e) => got.push(e.ev));
    ws.receive({ ev: 'call', call_id: 'x', state: 'ringing' }, { ev: 'presence', user_id: 2, online: true });
    off();
    ws.receive({ ev: 'call', call_id: 'x', state: 'ended' });
    expect(got).toEqual(['call', 'presence']);
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    expect(backoffDelay(1, () => 0, 500, 30_000)).toBe(250);
    expect(backoffDelay(1, () => 1, 500, 30_000)).toBe(500);
    expect(backoffDelay(4, () => 0, 500, 30_000)).toBe(2000);
    expect(backoffDelay(4, () => 1, 500, 30_000)).toBe(4000);
    expect(backoffDelay(30, () => 1, 500, 30_000)).toBe(30_000);
    expect(backoffDelay(30, () => 0, 500, 30_000)).toBe(15_000);
  });
});

describe('outbox', () => {
  const stored = () => JSON.parse(localStorage.getItem('parley.outbox.1') ?? '[]');

  it('keeps messages written offline in localStorage and sends them on reconnect with the same id', async () => {
    client.start(me);
    handshake(socks.current, [syncEv(conv(7, { last_seq: 1 }))]);
    await vi.advanceTimersByTimeAsync(0);
    socks.current.drop();
    const id = client.send(7, 'written offline');
    expect(stored()).toEqual([expect.objectContaining({ client_msg_id: id, conversation_id: 7, text: 'written offline' })]);
    expect(store.get().outbox).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(60_000);
    const ws = socks.current;
    handshake(ws, [syncEv(conv(7, { last_seq: 1 }), [])]);
    await vi.advanceTimersByTimeAsync(0);
    const sends = ws.ops('send');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ conversation_id: 7, client_msg_id: id, text: 'written offline' });

    // The acknowledgement removes it, from memory and from storage.
    ws.receive({ re: sends[0].id, ok: true, message: msg(7, 2, { sender_id: 1, client_msg_id: id, text: 'written offline' }), duplicate: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get().outbox).toEqual([]);
    expect(localStorage.getItem('parley.outbox.1')).toBeNull();
    expect(store.get().messages[7].items.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('survives a reload: a new client sends what the old one left', async () => {
    client.start(me);
    handshake(socks.current, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    socks.current.drop();
    const id = client.send(7, 'before reload');
    client.stop();

    store = createStore(initialChatState());
    client = makeClient();
    client.start(me);
    expect(store.get().outbox.map((o) => o.client_msg_id)).toEqual([id]);
    const ws = socks.current;
    handshake(ws, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('send').map((s) => s.client_msg_id)).toEqual([id]);
  });

  it('never sends a message twice on one connection, however often it is flushed', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    client.send(7, 'once');
    client.flushOutbox();
    client.flushOutbox();
    expect(ws.ops('send')).toHaveLength(1);
    // A live echo of the message arrives before the reply: still once.
    const s = ws.last('send');
    ws.receive({ ev: 'message', change: 'new', message: msg(7, 2, { sender_id: 1, client_msg_id: String(s.client_msg_id) }) });
    client.flushOutbox();
    ws.receive({ re: s.id, ok: true, message: msg(7, 2, { sender_id: 1, client_msg_id: String(s.client_msg_id) }), duplicate: false });
    await vi.advanceTimersByTimeAsync(0);
    client.flushOutbox();
    expect(ws.ops('send')).toHaveLength(1);
    expect(store.get().outbox).toEqual([]);
    expect(store.get().messages[7].items.filter((m) => m.seq === 2)).toHaveLength(1);
  });

  it('does not resend after a reconnect when the sync shows the message was stored', async () => {
    client.start(me);
    handshake(socks.current, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    const id = client.send(7, 'ack lost');
    expect(socks.current.ops('send')).toHaveLength(1);
    socks.current.drop(); // the acknowledgement never came
    await vi.advanceTimersByTimeAsync(60_000);
    const ws = socks.current;
    handshake(ws, [syncEv(conv(7, { last_seq: 2 }), [msg(7, 2, { sender_id: 1, client_msg_id: id })])]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('send')).toHaveLength(0);
    expect(store.get().outbox).toEqual([]);
  });

  it('resends with the same id when the ack was lost and the sync does not show it', async () => {
    client.start(me);
    handshake(socks.current, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    const id = client.send(7, 'maybe stored');
    socks.current.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    const ws = socks.current;
    handshake(ws, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('send').map((s) => s.client_msg_id)).toEqual([id]);
    // The server recognises it: the original acknowledgement, duplicate:true.
    ws.receive({ re: ws.last('send').id, ok: true, message: msg(7, 2, { sender_id: 1, client_msg_id: id }), duplicate: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get().outbox).toEqual([]);
  });

  it('keeps a refused message, marked, without retrying it', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    const id = client.send(7, 'x');
    ws.receive({ re: ws.last('send').id, ok: false, error: { code: 'not_accepting', message: 'They do not accept messages.' } });
    await vi.advanceTimersByTimeAsync(5000);
    client.flushOutbox();
    expect(ws.ops('send')).toHaveLength(1);
    expect(store.get().outbox[0]).toMatchObject({ client_msg_id: id, error: 'They do not accept messages.' });
    client.retry(id);
    expect(ws.ops('send')).toHaveLength(2);
  });
});

describe('receipts, typing, presence', () => {
  it('reports delivery of held messages and reading, as high-water marks', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, [syncEv(conv(7, { last_seq: 2, read_seq: 0, delivered_seq: 0 }), [msg(7, 1), msg(7, 2)])]);
    await vi.advanceTimersByTimeAsync(500);
    expect(ws.last('receipt')).toMatchObject({ conversation_id: 7, delivered_seq: 2 });
    ws.receive({ re: ws.last('receipt').id, ok: true, delivered_seq: 2, read_seq: 0 });
    client.markRead(7, 2);
    expect(store.get().conversations[7].unread).toBe(0);
    client.markRead(7, 1); // never backwards
    await vi.advanceTimersByTimeAsync(500);
    expect(ws.ops('receipt')).toHaveLength(2);
    expect(ws.last('receipt')).toMatchObject({ conversation_id: 7, read_seq: 2 });
  });

  it('updates marks of others from receipt events', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, [syncEv(conv(7, { last_seq: 1 }), [msg(7, 1, { sender_id: 1 })])]);
    await vi.advanceTimersByTimeAsync(0);
    ws.receive({ ev: 'receipt', conversation_id: 7, user_id: 2, delivered_seq: 1, read_seq: 1 });
    expect(store.get().members[7].find((m) => m.user_id === 2)).toMatchObject({ delivered_seq: 1, read_seq: 1 });
  });

  it('shows typing until it stops or expires', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    ws.receive({ ev: 'typing', conversation_id: 7, user_id: 2, active: true, expires_in_ms: 5000 });
    expect(Object.keys(store.get().typing[7])).toEqual(['2']);
    await vi.advanceTimersByTimeAsync(5001);
    expect(store.get().typing[7]).toEqual({});
    ws.receive({ ev: 'typing', conversation_id: 7, user_id: 2, active: true, expires_in_ms: 5000 });
    ws.receive({ ev: 'typing', conversation_id: 7, user_id: 2, active: false });
    expect(store.get().typing[7]).toEqual({});
  });

  it('throttles its own typing notices', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws, [syncEv()]);
    await vi.advanceTimersByTimeAsync(0);
    client.setTyping(7, true);
    client.setTyping(7, true);
    client.setTyping(7, true);
    expect(ws.ops('typing')).toHaveLength(1);
    client.setTyping(7, false);
    expect(ws.last('typing')).toMatchObject({ active: false });
  });
});
