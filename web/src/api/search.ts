// Search: GET /api/v1/search (docs/protocol.md, "Search"). Jumping to a
// result is the message list's (client.openAt).
import { request } from './http';
import type { Message, User } from './types';

export interface ConversationName {
  id: number;
  kind: 'direct' | 'group' | string;
  name: string;
}

export interface SearchHit {
  message: Message;
  conversation: ConversationName;
  /** The text around the first match; matches are [start, end) in code points. */
  snippet: string;
  matches: [number, number][];
}

export interface SearchResult {
  messages: SearchHit[];
  next_cursor?: string;
  conversations: ConversationName[];
  people: User[];
}

export interface SearchParams {
  q: string;
  conversation_id?: number;
  from?: number;
  after?: string; // YYYY-MM-DD
  before?: string; // YYYY-MM-DD
  has_attachment?: boolean;
  limit?: number;
  cursor?: string;
}

export function search(p: SearchParams, signal?: AbortSignal): Promise<SearchResult> {
  const q = new URLSearchParams({ q: p.q });
  if (p.conversation_id) q.set('conversation_id', String(p.conversation_id));
  if (p.from) q.set('from', String(p.from));
  if (p.after) q.set('after', p.after);
  if (p.before) q.set('before', p.before);
  if (p.has_attachment) q.set('has_attachment', 'true');
  if (p.limit) q.set('limit', String(p.limit));
  if (p.cursor) q.set('cursor', p.cursor);
  return request<SearchResult>('GET', `/search?${q}`, undefined, { signal });
}
