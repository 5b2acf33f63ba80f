// A small REST client for /api/v1. Errors become ApiError with the protocol's
// code, message and field.
import type { ChatListEntry, Conversation, Features, ForwardResult, IceServersReply, Member, Message, MessageInfo, MuteChoice, NotifyLevel, NotifySettings, Pin, ProtocolError, PushSubscriptionInfo, Session, User } from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly retryAfter?: number;
  /** The server answered without a protocol error body (the message is generic). */
  readonly generic: boolean;
  constructor(status: number, err: ProtocolError, retryAfter?: number, generic = false) {
    super(err.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = err.code;
    this.field = err.field ?? fieldForCode(err.code);
    this.retryAfter = retryAfter;
    this.generic = generic;
  }
}

// Uniqueness errors concern one input even when the server names no field.
function fieldForCode(code: string): string | undefined {
  switch (code) {
    case 'username_taken':
      return 'username';
    case 'email_taken':
      return 'email';
    case 'code_taken':
    case 'group_not_found':
      return 'code';
    default:
      return undefined;
  }
}

/** Called on every 401 from an authenticated route (the session ended). */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(fn: (() => void) | null) {
  onUnauthorized = fn;
}

export const API = '/api/v1';

interface RequestOptions {
  /** A 401 is an expected answer here (login, logout, me), not a session that ended. */
  quiet401?: boolean;
  signal?: AbortSignal;
  /** The Accept header (JSON unless said). */
  accept?: string;
  /** Send this file as the raw body (of its own type) instead of body as JSON. */
  file?: Blob;
}

/**
 * send makes one request and returns the response when its status is 2xx;
 * any other status becomes an ApiError (a 401 also tells the unauthorized
 * handler), and a network failure an ApiError with status 0.
 */
async function send(method: string, path: string, body: unknown, opts: RequestOptions): Promise<Response> {
  const accept = opts.accept ?? 'application/json';
  let res: Response;
  try {
    const headers: Record<string, string> = { Accept: accept };
    if (opts.file) headers['Content-Type'] = opts.file.type || 'application/octet-stream';
    else if (body !== undefined) headers['Content-Type'] = 'application/json';
    res = await fetch(API + path, {
      method,
      credentials: 'same-origin',
      headers,
      body: opts.file ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw networkError();
  }
  if (res.ok) return res;
  throw failure(res.status, await res.text(), res.headers.get('Retry-After'), opts.quiet401);
}

export function networkError(): ApiError {
  return new ApiError(0, { code: 'network', message: 'Cannot reach the server. Check your connection.' });
}

/**
 * failure turns an answer that is not 2xx into an ApiError (a 401 also
 * tells the unauthorized handler, unless quiet401).
 */
export function failure(status: number, text: string, retryAfter: string | null, quiet401?: boolean): ApiError {
  const data = parseJSON(text);
  const sent = (data as { error?: ProtocolError } | undefined)?.error;
  const err = sent ?? { code: status === 404 ? 'not_found' : 'internal', message: `Request failed (${status}).` };
  const ra = Number(retryAfter);
  if (status === 401 && !quiet401 && onUnauthorized) onUnauthorized();
  return new ApiError(status, err, Number.isFinite(ra) && ra > 0 ? ra : undefined, !sent);
}

export function parseJSON(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, body, opts);
  if (res.status === 204) return undefined as T;
  return parseJSON(await res.text()) as T;
}

const enc = encodeURIComponent;

export const api = {
  features: () => request<Features>('GET', '/features'),
  signup: (username: string, email: string, password: string, invite?: string) => request<{ user: User }>('POST', '/auth/signup', invite ? { username, email, password, invite } : { username, email, password }),
  login: (login: string, password: string) => request<{ token: string; session_id: number; user: User }>('POST', '/auth/login', { login, password }, { quiet401: true }),
  logout: () => request<void>('POST', '/auth/logout', undefined, { quiet401: true }),
  me: () => request<{ user: User }>('GET', '/me', undefined, { quiet401: true }),
  updateMe: (patch: { display_name?: string; accepting_messages?: boolean; hide_notification_text?: boolean }) => request<{ user: User }>('PATCH', '/me', patch),
  sessions: () => request<{ sessions: Session[] }>('GET', '/sessions'),
  deleteSession: (id: number) => request<void>('DELETE', `/sessions/${id}`),
  logoutOthers: () => request<{ revoked: number }>('POST', '/sessions/logout-others'),
  searchUsers: (prefix: string, limit = 10, signal?: AbortSignal) => request<{ users: User[] }>('GET', `/users?prefix=${enc(prefix)}&limit=${limit}`, undefined, { signal }),
  user: (username: string) => request<{ user: User }>('GET', `/users/${enc(username)}`),

  conversations: () => request<{ conversations: Conversation[] }>('GET', '/conversations'),
  conversation: (id: number) => request<{ conversation: Conversation }>('GET', `/conversations/${id}`),
  createGroup: (name: string, code?: string) => request<{ conversation: Conversation }>('POST', '/groups', code ? { name, code } : { name }),
  joinGroup: (code: string) => request<{ conversation: Conversation }>('POST', '/groups/join', { code }),
  direct: (username: string) => request<{ conversation: Conversation }>('POST', '/direct', { username }),
  rename: (id: number, name: string) => request<{ conversation: Conversation }>('PATCH', `/conversations/${id}`, { name }),
  rotateCode: (id: number, code?: string) => request<{ conversation: Conversation }>('POST', `/conversations/${id}/code`, code ? { code } : {}),
  members: (id: number) => request<{ members: Member[] }>('GET', `/conversations/${id}/members`),
  setRole: (id: number, userId: number, role: 'admin' | 'member' | 'owner') => request<{ member: Member }>('PATCH', `/conversations/${id}/members/${userId}`, { role }),
  removeMember: (id: number, userId: number) => request<void>('DELETE', `/conversations/${id}/members/${userId}`),
  leave: (id: number) => request<void>('POST', `/conversations/${id}/leave`),
  /** My notification level and mute for a conversation (give at least one). */
  notifySettings: (id: number, patch: { level?: NotifyLevel; mute?: MuteChoice }) => request<{ notify: NotifySettings }>('PATCH', `/conversations/${id}/settings`, patch),

  /** The server's VAPID public key (base64url), for pushManager.subscribe. */
  pushKey: () => request<{ key?: string; public_key?: string }>('GET', '/push/key').then((r) => r.key ?? r.public_key ?? ''),
  pushSubscriptions: () => request<{ subscriptions: PushSubscriptionInfo[] }>('GET', '/push/subscriptions'),
  /** Registers this browser's subscription (PushSubscription.toJSON()) with a device label. */
  addPushSubscription: (sub: { endpoint: string; keys: { p256dh: string; auth: string } }, label: string) =>
    request<{ subscription: PushSubscriptionInfo }>('POST', '/push/subscriptions', { endpoint: sub.endpoint, keys: sub.keys, label }),
  deletePushSubscription: (id: number) => request<void>('DELETE', `/push/subscriptions/${id}`),

  history: (id: number, q: { after_seq?: number; before_seq?: number; around_seq?: number; limit?: number }) => {
    const p = new URLSearchParams();
    if (q.around_seq !== undefined) p.set('around_seq', String(q.around_seq));
    if (q.after_seq !== undefined) p.set('after_seq', String(q.after_seq));
    if (q.before_seq !== undefined) p.set('before_seq', String(q.before_seq));
    if (q.limit !== undefined) p.set('limit', String(q.limit));
    return request<{ messages: Message[]; has_more?: boolean; has_more_before?: boolean; has_more_after?: boolean }>('GET', `/conversations/${id}/messages?${p}`);
  },
  sendMessage: (id: number, client_msg_id: string, text: string, attachments?: number[]) =>
    request<{ message: Message }>('POST', `/conversations/${id}/messages`, attachments?.length ? { client_msg_id, text, attachments } : { client_msg_id, text }),
  editMessage: (id: number, seq: number, text: string) => request<{ message: Message }>('PATCH', `/conversations/${id}/messages/${seq}`, { text }),
  deleteMessage: (id: number, seq: number) => request<{ message: Message }>('DELETE', `/conversations/${id}/messages/${seq}`),
  react: (id: number, seq: number, emoji: string, on: boolean) => request<{ message: Message; changed: boolean }>('POST', `/conversations/${id}/messages/${seq}/reactions`, { emoji, on }),
  messageInfo: (id: number, seq: number) => request<MessageInfo>('GET', `/conversations/${id}/messages/${seq}/info`),
  /** Forwards message seq to 1-5 conversations; a repeat with the same client_msg_id sends nothing twice. */
  forward: (id: number, seq: number, client_msg_id: string, conversation_ids: number[]) =>
    request<{ results: ForwardResult[] }>('POST', `/conversations/${id}/messages/${seq}/forward`, { client_msg_id, conversation_ids }),
  pins: (id: number) => request<{ pins: Pin[] }>('GET', `/conversations/${id}/pins`),
  pin: (id: number, seq: number, on: boolean) => request<{ pins: Pin[]; changed: boolean }>(on ? 'PUT' : 'DELETE', `/conversations/${id}/pins/${seq}`),
  chatList: () => request<{ chat_list: ChatListEntry[] }>('GET', '/me/chat-list'),
  setChatList: (id: number, patch: { pinned?: boolean; archived?: boolean; marked_unread?: boolean }) => request<{ entry: ChatListEntry }>('PATCH', `/conversations/${id}/chat-list`, patch),
  markRead: (id: number, seq: number) => request<{ delivered_seq: number; read_seq: number }>('POST', `/conversations/${id}/read`, { seq }),

  /** POST …/suggestions: the response's body is the Server-Sent Events stream (see api/sse.ts). */
  suggestions: (id: number, prompt: string, signal?: AbortSignal) => send('POST', `/conversations/${id}/suggestions`, prompt ? { prompt } : {}, { accept: 'text/event-stream', signal }),

  /** Deletes an upload not sent yet (see api/upload.ts for uploading). */
  deleteUpload: (id: number) => request<void>('DELETE', `/uploads/${id}`),
  setAvatar: (image: Blob) => request<{ user: User }>('PUT', '/me/avatar', undefined, { file: image }),
  removeAvatar: () => request<{ user: User }>('DELETE', '/me/avatar'),
  setGroupPhoto: (id: number, image: Blob) => request<{ conversation: Conversation }>('PUT', `/conversations/${id}/photo`, undefined, { file: image }),
  removeGroupPhoto: (id: number) => request<{ conversation: Conversation }>('DELETE', `/conversations/${id}/photo`),

  /** STUN/TURN servers for one call (TURN credentials expire: fetch per call). */
  iceServers: () => request<IceServersReply>('GET', '/calls/ice-servers'),
};
