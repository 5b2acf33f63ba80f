// Test doubles for the realtime client's boundary: a WebSocket we drive by
// hand, and message/conversation builders.
import type { Conversation, Member, Message } from '../api/types';
import type { SocketLike } from '../realtime/client';

export interface SentOp {
  op: string;
  id: string;
  [k: string]: unknown;
}

export class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: SentOp[] = [];
  closedByClient: number | null = null;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  send(data: string) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedByClient = code;
    this.onclose?.({ code });
  }

  // The server's side.
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** receive delivers one frame holding the objects, newline-separated. */
  receive(...objs: unknown[]) {
    this.onmessage?.({ data: objs.map((o) => JSON.stringify(o)).join('\n') });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  ops(op: string): SentOp[] {
    return this.sent.filter((s) => s.op === op);
  }
  last(op: string): SentOp {
    const l = this.ops(op);
    if (!l.length) throw new Error(`no ${op} sent; sent: ${this.sent.map((s) => s.op).join(',')}`);
    return l[l.length - 1];
  }
}

export function sockets() {
  const list: FakeSocket[] = [];
  const factory = (url: string) => {
    const s = new FakeSocket(url);
    list.push(s);
    return s;
  };
  return { list, factory, get current() { return list[list.length - 1]; } };
}

let nextId = 1;
export function msg(conversation_id: number, seq: number, over: Partial<Message> = {}): Message {
  return {
    id: nextId++,
    conversation_id,
    seq,
    mod: seq,
    sender_id: 2,
    sender: { id: 2, username: 'bob', display_name: 'Bob' },
    client_msg_id: `c-${conversation_id}-${seq}`,
    kind: 'text',
    text: `message ${seq}`,
    created_at: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString(),
    ...over,
  };
}

export function conv(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    kind: 'group',
    name: `Group ${id}`,
    created_at: '2026-01-01T00:00:00Z',
    last_seq: 0,
    last_mod: 0,
    last_activity: '2026-01-01T00:00:00Z',
    member_count: 2,
    role: 'member',
    read_seq: 0,
    delivered_seq: 0,
    unread: 0,
    ...over,
  };
}

export function member(conversation_id: number, user_id: number, over: Partial<Member> = {}): Member {
  return {
    conversation_id,
    user_id,
    username: `u${user_id}`,
    display_name: `User ${user_id}`,
    role: 'member',
    joined_at: '2026-01-01T00:00:00Z',
    delivered_seq: 0,
    read_seq: 0,
    ...over,
  };
}
