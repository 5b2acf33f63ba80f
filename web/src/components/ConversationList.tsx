// The list of my conversations, most recent activity first, updated live.
import { useMemo } from 'react';
import type { Conversation, Message } from '../api/types';
import { chat } from '../app';
import { describeFiles } from '../lib/files';
import { formatListTime, nameOf } from '../lib/format';
import { Link } from '../lib/router';
import { conversationsByActivity } from '../state/chat';
import { useStore } from '../state/store';
import { mutedUntil } from '../lib/notifyLevel';
import { bellOffIcon } from './NotifyButton';
import { Avatar, Icon } from './ui';
import { photoOf } from '../lib/files';
import { Handle } from './Handle';
import { systemText } from './SystemMessage';
import { typingText } from './TypingIndicator';

export function ConversationList({ activeId }: { activeId: number | null }) {
  const convs = useStore(chat, (s) => s.conversations);
  const status = useStore(chat, (s) => s.connection);
  const list = useMemo(() => conversationsByActivity(convs), [convs]);
  if (list.length === 0) {
    if (!status.everSynced) return <p className="px-4 py-6 text-sm text-slate-500">Loading conversations…</p>;
    return (
      <div className="px-6 py-10 text-center text-sm text-slate-500">
        <p className="mb-2 font-medium text-slate-700">No conversations yet</p>
        <p>Create a group, join one with its code, or start a direct chat.</p>
      </div>
    );
  }
  return (
    <nav aria-label="Conversations">
      <ul className="divide-y divide-slate-100" data-testid="conversation-list">
        {list.map((c) => (
          <li key={c.id}>
            <ConversationListItem conv={c} active={c.id === activeId} />
          </li>
        ))}
      </ul>
    </nav>
  );
}

function preview(m: Message | null | undefined, meId: number | undefined, group: boolean, names: (id: number) => string): string {
  if (!m) return 'No messages yet';
  if (m.kind === 'system') return systemText(m, names, meId);
  if (m.deleted_at) return 'Message deleted';
  const who = m.sender_id === meId ? 'You: ' : group ? `${nameOf(m.sender) ?? ''}: ` : '';
  const files = m.attachments?.length ? describeFiles(m.attachments) : '';
  const text = m.text.replace(/\s+/g, ' ');
  return who + (files && text ? `${files.split(' ')[0]} ${text}` : files || text);
}

function ConversationListItem({ conv, active }: { conv: Conversation; active: boolean }) {
  const me = useStore(chat, (s) => s.me);
  const presence = useStore(chat, (s) => (conv.peer ? s.presence[conv.peer.id] : undefined));
  const members = useStore(chat, (s) => s.members[conv.id]);
  const typing = useStore(chat, (s) => s.typing[conv.id]);
  const names = (id: number) => {
    if (id === me?.id) return 'You';
    const m = members?.find((x) => x.user_id === id);
    return m ? nameOf(m) : 'Someone';
  };
  const unread = conv.unread ?? 0;
  const mentions = unread > 0 ? (conv.unread_mentions ?? 0) : 0;
  const muted = mutedUntil(conv) !== null;
  const direct = conv.kind === 'direct';
  const typingIds = typing ? Object.keys(typing).map(Number) : [];
  const isTyping = typingIds.length > 0;
  return (
    <Link
      to={`/c/${conv.id}`}
      aria-current={active ? 'page' : undefined}
      data-testid="conversation-item"
      data-conversation-id={conv.id}
      className={`flex items-center gap-3 px-4 py-3 outline-none transition hover:bg-slate-50 focus-visible:bg-brand-50 ${active ? 'bg-brand-50' : ''}`}
    >
      <Avatar name={conv.name} seed={direct && conv.peer ? conv.peer.id : conv.id * 7 + 3} online={direct ? !!presence?.online : undefined} src={photoOf(conv)} />
      <span className="min-w-0 flex-1">
        <span className="flex items-baseline justify-between gap-2">
          <span className="flex min-w-0 items-baseline gap-1.5">
            <span className="shrink-[4] truncate font-medium text-slate-900" data-testid="conversation-name">
              {conv.name}
            </span>
            {direct && conv.peer && <Handle username={conv.peer.username} className="text-xs text-slate-500" />}
            {muted && (
              <span data-testid="muted-indicator" title="Muted" className="shrink-0 self-center text-slate-600">
                <Icon d={bellOffIcon} className="h-3.5 w-3.5" />
                <span className="sr-only">(muted)</span>
              </span>
            )}
          </span>
          <span className={`shrink-0 text-xs ${unread > 0 ? 'font-semibold text-brand-700' : 'text-slate-600'}`}>{formatListTime(conv.last_message?.created_at ?? conv.last_activity)}</span>
        </span>
        <span className="mt-0.5 flex items-center justify-between gap-2">
          <span className={`truncate text-sm ${isTyping ? 'italic text-brand-700' : 'text-slate-600'}`} data-testid="conversation-preview">
            {isTyping ? typingText(typingIds, members, direct) : preview(conv.last_message, me?.id, !direct, names)}
          </span>
          {unread > 0 && (
            <span className="flex shrink-0 items-center gap-1">
              {mentions > 0 && (
                <span data-testid="mention-badge" aria-label={mentions === 1 ? 'mentioned you' : `mentioned you ${mentions} times`} className="inline-flex h-5 w-5 items-center justify-center rounded-full bg-accent text-xs font-bold text-white">
                  @
                </span>
              )}
              <span data-testid="unread-badge" aria-label={`${unread} unread`} className={`inline-flex h-5 min-w-5 items-center justify-center rounded-full px-1.5 text-xs font-semibold ${muted ? 'bg-[#475569] text-white' : 'bg-accent text-white'}`}>
                {unread > 99 ? '99+' : unread}
              </span>
            </span>
          )}
        </span>
      </span>
    </Link>
  );
}
