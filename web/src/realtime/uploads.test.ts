import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/http';
import { UploadAborted, type UploadMeta } from '../api/upload';
import type { Upload } from '../api/types';
import { check, pastedName } from '../state/staged';
import { conv, member, msg, sockets, type FakeSocket } from '../test/fakes';
import { initialChatState, type ChatState } from '../state/chat';
import { createStore, type Store } from '../state/store';
import { RealtimeClient } from './client';
import type { BlobKeeper } from './uploads';

const me = { id: 1, username: 'alice', display_name: 'Alice' };

// A hand-driven POST /uploads: each call waits until the test answers it.
interface Call {
  blob: Blob;
  meta: UploadMeta;
  progress?: (loaded: number, total: number) => void;
  resolve: (u: Upload) => void;
  reject: (e: unknown) => void;
  aborted: boolean;
}

let calls: Call[];
let nextId: number;
let store: Store<ChatState>;
let socks: ReturnType<typeof sockets>;
let client: RealtimeClient;

function fakeUpload(blob: Blob, meta: UploadMeta, progress?: (loaded: number, total: number) => void) {
  let call!: Call;
  const done = new Promise<Upload>((resolve, reject) => {
    call = { blob, meta, progress, resolve, reject, aborted: false };
  });
  calls.push(call);
  return {
    done,
    abort: () => {
      call.aborted = true;
      call.reject(new UploadAborted());
    },
  };
}

function answer(c: Call): Upload {
  const id = nextId++;
  const u: Upload = { id, name: c.meta.name, size: c.blob.size, content_type: c.blob.type, url: `/api/v1/attachments/${id}`, expires_at: '2026-12-07T00:00:00Z' };
  c.resolve(u);
  return u;
}

function makeClient(keeper: BlobKeeper | null = null) {
  return new RealtimeClient({ store, url: 'ws://test/api/v1/ws', socket: socks.factory, storage: localStorage, random: () => 0.5, upload: fakeUpload, watchNetwork: false, keeper });
}

/** memoryKeeper is the device's store of bytes, as IndexedDB would keep them across page loads. */
function memoryKeeper(): BlobKeeper & { map: Map<string, Blob> } {
  const map = new Map<string, Blob>();
  return {
    map,
    put: async (k, b) => void map.set(k, b),
    get: async (k) => map.get(k),
    delete: async (k) => void map.delete(k),
    keys: async () => [...map.keys()],
  };
}

function handshake(ws: FakeSocket) {
  ws.open();
  ws.receive({ ev: 'hello', user: me, session_id: 1, conn_id: 'n1-1' });
  const sync = ws.last('sync');
  ws.receive({ ev: 'sync', conversation: conv(7), messages: [msg(7, 1)], changes: [], members: [member(7, 1), member(7, 2)], has_more: false }, { ev: 'synced' }, { re: sync.id, ok: true, conversations: 1 });
}

const file = (name: string, bytes = 10, type = 'image/png') => ({ blob: new Blob([new Uint8Array(bytes)], { type }), name });

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  calls = [];
  nextId = 100;
  store = createStore(initialChatState());
  socks = sockets();
  client = makeClient();
});

afterEach(() => {
  client.stop();
  vi.useRealTimers();
});

describe('messages with files', () => {
  it('waits offline, uploads on reconnect with progress, then sends once with every id in order', async () => {
    client.start(me);
    socks.current.drop();
    const id = client.send(7, 'two pictures', { files: [file('a.png', 10), { ...file('b.png', 20), width: 40, height: 30 }] });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(0); // nothing goes up while offline

    await vi.advanceTimersByTimeAsync(60_000);
    const ws = socks.current;
    handshake(ws);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.meta.name)).toEqual(['a.png', 'b.png']);
    const keys = store.get().outbox[0].files!.map((f) => f.key);
    calls[0].progress?.(5, 10);
    expect(client.uploads.progress.get()[keys[0]]).toEqual({ loaded: 5, total: 10 });

    // The second finishes first: the message still waits for the first.
    const ub = answer(calls[1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('send')).toHaveLength(0);
    expect(store.get().outbox[0].files![1].upload?.id).toBe(ub.id);
    const ua = answer(calls[0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.uploads.progress.get()).toEqual({});
    const sends = ws.ops('send');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ client_msg_id: id, text: 'two pictures', attachments: [ua.id, ub.id] });

    client.flushOutbox();
    expect(ws.ops('send')).toHaveLength(1);
    expect(calls).toHaveLength(2);
    ws.receive({ re: sends[0].id, ok: true, message: msg(7, 2, { sender_id: 1, client_msg_id: id }), duplicate: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get().outbox).toEqual([]);
    expect(client.uploads.has(keys[0])).toBe(false);
  });

  it('keeps uploaded ids across a reload and never uploads a file twice', async () => {
    client.start(me);
    handshake(socks.current);
    await vi.advanceTimersByTimeAsync(0);
    const id = client.send(7, '', { files: [file('a.png'), file('b.png')] });
    await vi.advanceTimersByTimeAsync(0);
    const ua = answer(calls[0]);
    await vi.advanceTimersByTimeAsync(0);
    client.stop(); // the page closes with b.png still going up
    expect(calls[1].aborted).toBe(true);

    store = createStore(initialChatState());
    client = makeClient();
    client.start(me);
    const ws = socks.current;
    handshake(ws);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2);
    const item = store.get().outbox[0];
    expect(item.client_msg_id).toBe(id);
    expect(item.files![0].upload?.id).toBe(ua.id);
    // b.png's bytes were in the closed page: it says so and waits.
    expect(item.files![1].error).toMatch(/not kept/);
    expect(ws.ops('send')).toHaveLength(0);
    client.removeFile(id, item.files![1].key);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.last('send')).toMatchObject({ client_msg_id: id, attachments: [ua.id] });
  });

  it('keeps the bytes on the device: a message written offline is sent after the page is closed and opened again', async () => {
    const keeper = memoryKeeper();
    keeper.map.set('u9-old', new Blob(['another account’s']));
    keeper.map.set('u1-stale', new Blob(['left by nothing']));
    client = makeClient(keeper);
    client.start(me);
    socks.current.drop();
    const id = client.send(7, 'from the tunnel', { files: [file('a.png', 12)] });
    await vi.advanceTimersByTimeAsync(0);
    client.stop();
    // Kept under the account's prefix; what no message of this account needs is gone, another account's stays.
    expect([...keeper.map.keys()].filter((k) => k !== 'u9-old')).toEqual([expect.stringMatching(/^u1-/)]);
    expect(keeper.map.has('u1-stale')).toBe(false);

    store = createStore(initialChatState());
    client = makeClient(keeper);
    client.start(me);
    const ws = socks.current;
    handshake(ws);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(calls[0].blob.size).toBe(12);
    const u = answer(calls[0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.last('send')).toMatchObject({ client_msg_id: id, attachments: [u.id] });
    expect([...keeper.map.keys()]).toEqual(['u9-old']);
  });

  it('marks a refused file and sends after a retry', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws);
    await vi.advanceTimersByTimeAsync(0);
    const id = client.send(7, 'doc', { files: [file('big.bin', 10, 'application/octet-stream')] });
    calls[0].reject(new ApiError(413, { code: 'too_large', message: 'The file is too large.' }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(1);
    expect(store.get().outbox[0].files![0].error).toBe('The file is too large.');
    expect(ws.ops('send')).toHaveLength(0);
    client.retry(id);
    expect(calls).toHaveLength(2);
    const u = answer(calls[1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.last('send')).toMatchObject({ attachments: [u.id] });
  });

  it('tries again by itself after a network failure', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws);
    await vi.advanceTimersByTimeAsync(0);
    client.send(7, '', { files: [file('a.png')] });
    calls[0].reject(new ApiError(0, { code: 'network', message: 'Cannot reach the server.' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get().outbox[0].files![0].error).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(2);
    answer(calls[1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('send')).toHaveLength(1);
  });

  it('cancels an upload: the file goes, and a message left empty goes too', async () => {
    client.start(me);
    handshake(socks.current);
    await vi.advanceTimersByTimeAsync(0);
    const id = client.send(7, '', { files: [file('a.png')] });
    const key = store.get().outbox[0].files![0].key;
    client.removeFile(id, key);
    expect(calls[0].aborted).toBe(true);
    expect(store.get().outbox).toEqual([]);
    expect(client.uploads.has(key)).toBe(false);
  });

  it('keeps the order: a text written after a photo waits for it', async () => {
    client.start(me);
    const ws = socks.current;
    handshake(ws);
    await vi.advanceTimersByTimeAsync(0);
    const photo = client.send(7, '', { files: [file('a.png')] });
    const text = client.send(7, 'look at this');
    expect(ws.ops('send')).toHaveLength(0);
    answer(calls[0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.ops('send').map((s) => s.client_msg_id)).toEqual([photo, text]);
  });
});

describe('choosing files', () => {
  const limits = { max_upload: 1000, max_attachments: 3, max_image_pixels: 1e6 };
  it('takes what fits and says why the rest did not', () => {
    const r = check(1, [{ name: 'a', size: 10 }, { name: 'huge', size: 2000 }, { name: 'b', size: 10 }, { name: 'c', size: 10 }, { name: 'empty', size: 0 }], limits);
    expect(r.take).toEqual([0, 2]);
    expect(r.error).toMatch(/huge is 2 KB; files can be at most 1 KB/);
    expect(r.error).toMatch(/at most 3 files/);
    expect(r.error).toMatch(/empty is empty/);
  });
  it('names a pasted image', () => {
    expect(pastedName('image/png', new Date(2026, 11, 6, 9, 5, 7))).toBe('Pasted image 2026-12-06 09.05.07.png');
  });
});
