// The objects of docs/protocol.md, as the server sends them.

export interface User {
  id: number;
  username: string;
  display_name: string;
  email?: string;
  accepting_messages?: boolean;
  created_at?: string;
  last_seen?: string | null;
  /** The profile photo (absent without one); the address changes with the photo. */
  avatar_url?: string;
  /** A deleted account ("Deleted account", username ~id). */
  deleted?: boolean;
  /** Mine only: notifications say "New message" instead of the text. */
  hide_notification_text?: boolean;
  /** The instance role: only in your own user (and to admins). */
  role?: 'admin' | 'member';
}

export interface UserRef {
  id: number;
  username: string;
  display_name: string;
}

export type ConversationKind = 'group' | 'direct';
export type Role = 'owner' | 'admin' | 'member';

export interface SystemInfo {
  event: 'created' | 'joined' | 'added' | 'left' | 'removed' | 'renamed' | 'role_changed' | 'code_rotated' | 'call' | string;
  actor_id?: number;
  target_id?: number;
  name?: string;
  media?: string;
  seconds?: number;
}

/** A file a message carries (docs/protocol.md, "attachment"). */
export interface Attachment {
  id: number;
  name: string;
  size: number;
  /** What the server found the bytes to be. */
  content_type: string;
  /** An image's (as shown) or a video's size, when known. */
  width?: number;
  height?: number;
  /** Seconds, for audio and video. */
  duration?: number;
  url: string;
  /** Images only. */
  thumbnail_url?: string;
}

/** POST /api/v1/uploads's answer: the attachment-to-be and when it expires unsent. */
export interface Upload extends Attachment {
  expires_at: string;
}

export interface Message {
  id: number;
  conversation_id: number;
  seq: number;
  mod: number;
  sender_id: number;
  sender?: UserRef;
  client_msg_id?: string;
  kind: 'text' | 'system' | string;
  text: string;
  system?: SystemInfo;
  created_at: string;
  edited_at?: string | null;
  deleted_at?: string | null;
  attachments?: Attachment[];
  /** The seq of the message this one answers, and what it shows of it now. */
  reply_to?: number;
  reply?: ReplyPreview;
  /** The emoji people put on the message, in the order each first appeared. */
  reactions?: Reaction[];
  /** The ids of the members the text mentions (absent when none). */
  mentions?: number[];
  /** Forwarded from another conversation (nothing else of the original is shown). */
  forwarded?: boolean;
}

/** One conversation's part of a forward's answer: the message sent there, or why not. */
export interface ForwardResult {
  conversation_id: number;
  created: boolean;
  message?: Message;
  error?: ProtocolError;
}

/** What a reply shows of the message it answers (docs/protocol.md, "message"). */
export interface ReplyPreview {
  seq: number;
  sender?: UserRef;
  kind: string;
  text: string;
  attachments?: number;
  content_type?: string;
  name?: string;
  deleted?: boolean;
}

/** One emoji on a message: how many put it there and the first 20 of them. */
export interface Reaction {
  emoji: string;
  count: number;
  users: number[];
}

export interface Conversation {
  id: number;
  kind: ConversationKind;
  name: string;
  code?: string;
  created_at: string;
  last_seq: number;
  last_mod: number;
  last_activity: string;
  member_count: number;
  role?: Role;
  read_seq?: number;
  delivered_seq?: number;
  unread?: number;
  last_message?: Message | null;
  peer?: User | null;
  /** A group's photo. */
  photo_url?: string;
  /** Unread messages (seq > read_seq) that mention me. */
  unread_mentions?: number;
  /** My notification setting for the conversation. */
  notify?: NotifySettings;
}

/** What I am notified of in a conversation (docs/protocol.md, "Notifications"). */
export type NotifyLevel = 'default' | 'all' | 'mentions' | 'off';

export interface NotifySettings {
  level: NotifyLevel | '';
  /** Muted until then (9999-12-31: always); absent when not muted. */
  muted_until?: string | null;
}

/** How long to mute a conversation for; 'off' unmutes. */
export type MuteChoice = '1h' | '8h' | '1w' | 'always' | 'off';

/** One Web Push subscription of mine (a browser or device). */
export interface PushSubscriptionInfo {
  id: number;
  endpoint: string;
  label: string;
  created_at: string;
  last_used?: string;
}

export interface Member {
  conversation_id: number;
  user_id: number;
  username: string;
  display_name: string;
  avatar_url?: string;
  role: Role;
  joined_at: string;
  delivered_seq: number;
  read_seq: number;
}

/** One other member's receipts of my message (GET …/messages/{seq}/info). A time is null while not yet, or when not recorded. */
export interface MessageInfoMember {
  user_id: number;
  username: string;
  display_name: string;
  avatar_url?: string;
  delivered: boolean;
  read: boolean;
  delivered_at: string | null;
  read_at: string | null;
}

export interface MessageInfo {
  seq: number;
  /** false in groups above large_group members: receipts are counted there, not listed. */
  listed: boolean;
  large_group: number;
  members: MessageInfoMember[];
}

export interface Session {
  id: number;
  user_agent: string;
  ip: string;
  created_at: string;
  last_used: string;
  expires_at: string;
  current: boolean;
}

export interface FileLimits {
  max_upload: number;
  max_attachments: number;
  max_image_pixels: number;
}

export interface Features {
  suggestions: boolean;
  calls: boolean;
  push: boolean;
  files?: FileLimits;
  /** Who may sign up: anyone, people with an invitation, nobody. */
  signup?: 'open' | 'invite' | 'closed';
  invites_by_members?: boolean;
}

export interface ProtocolError {
  code: string;
  message: string;
  field?: string;
}

// WebSocket server → client objects.

export type ServerEvent =
  | { ev: 'hello'; user: User; session_id: number; conn_id: string; limits?: Record<string, unknown> }
  | { ev: 'message'; change: 'new' | 'edited' | 'deleted'; message: Message }
  | { ev: 'receipt'; conversation_id: number; user_id: number; delivered_seq: number; read_seq: number }
  | { ev: 'typing'; conversation_id: number; user_id: number; active: boolean; expires_in_ms?: number }
  | { ev: 'presence'; user_id: number; online: boolean; last_seen?: string | null }
  | { ev: 'member'; conversation_id: number; change: 'joined' | 'left' | 'removed' | 'role' | 'profile'; member: Member }
  | { ev: 'conversation'; change: 'created' | 'added' | 'renamed' | 'code' | 'photo' | 'removed'; conversation: Conversation }
  | { ev: 'sync'; conversation: Conversation; messages: Message[]; changes: Message[]; members: Member[]; has_more: boolean; changes_more?: boolean }
  | { ev: 'synced' }
  | ReactionEvent
  | { ev: 'pins'; conversation_id: number; pins: Pin[] }
  | { ev: 'chat_list'; entry: ChatListEntry }
  | CallEvent;

/** A pinned message (docs/protocol.md, "Pins"). */
export interface Pin {
  seq: number;
  pinned_by: number;
  pinned_at: string;
  message: ReplyPreview;
}

/** How I keep one conversation in my chat list (docs/protocol.md, "Chat list"). */
export interface ChatListEntry {
  conversation_id: number;
  pinned_at: string | null;
  archived_at: string | null;
  marked_unread: boolean;
}

export interface ReactionEvent {
  ev: 'reaction';
  conversation_id: number;
  seq: number;
  mod: number;
  user_id: number;
  emoji: string;
  on: boolean;
  reactions: Reaction[];
}

export type CallMedia = 'audio' | 'video';

/** What RTCIceCandidate.toJSON() gives, as call_ice carries it. */
export interface IceCandidateJSON {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment: string | null;
}

/** The `call` event (docs/protocol.md, "Calls"); fields by type. */
export interface CallEvent {
  ev: 'call';
  type: 'ring' | 'outgoing' | 'answer' | 'answered_elsewhere' | 'ice' | 'ended' | string;
  call_id: string;
  conversation_id: number;
  /** ring: the caller. */
  from?: UserRef;
  /** outgoing: the callee's user id. */
  to?: number;
  media?: CallMedia;
  /** ring: the offer; answer: the answer. */
  sdp?: string;
  candidate?: IceCandidateJSON;
  timeout_ms?: number;
  /** ended: declined, cancelled, missed, busy, glare, hangup, disconnected. */
  reason?: string;
  by?: number;
  seconds?: number;
}

export interface IceServersReply {
  ice_servers: { urls: string[] | string; username?: string; credential?: string }[];
  ttl: number;
}

export interface Reply {
  re: string;
  ok: boolean;
  error?: ProtocolError;
  [k: string]: unknown;
}

export type ServerFrameObject = ServerEvent | Reply;
