// The list of my conversations, most recent activity first, updated live;
// those I pinned on top, those I archived apart (until a new message, unless
// muted), searchable by name; unread, marked-unread and draft indicators.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Conversation, Message } from '../api/types';
import { chat } from '../app';
import { describeFiles } from '../lib/files';
import { formatListTime, nameOf } from '../lib/format';
import { Link } from '../lib/router';
import { conversationsByActivity } from '../state/chat';
import { useDraft } from '../state/compose';
import { archived, loadChatList, orderChats, updateChatList, useChatList, watchLists } from '../state/lists';
import { useStore } from '../state/store';
import { mutedUntil } from '../lib/notifyLevel';
import { bellOffIcon } from './NotifyButton';
import { photoOf } from '../lib/files';
import { convoIcons } from './convoIcons';
import { MessageMenu, type MessageAction } from './MessageMenu';
import { Avatar, Icon, icons } from './ui';
import { Handle } from './Handle';
import { systemText } from './SystemMessage';
import { typingText } from './TypingIndicator';

export function ConversationList({ activeId }: { activeId: number | null }) {
  const convs = useStore(chat, (s) => s.conversations);
  const status = useStore(chat, (s) => s.connection);
  const entries = useChatList();
  const [query, setQuery] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  useEffect(() => {
    watchLists();
    void loadChatList();
  }, []);
  const all = useMemo(() => conversationsByActivity(convs), [convs]);
  const q = query.trim().toLowerCase();
  const matching = q ? all.filter((c) => c.name.toLowerCase().includes(q) || (c.peer?.username ?? '').includes(q)) : all;
  const archivedList = matching.filter((c) => archived(c, entries[c.id]));
  const list = orderChats(
    matching.filter((c) => !archived(c, entries[c.id])),
    entries,
  );
  const shown = showArchived ? archivedList : list;
  if (all.length === 0) {
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
      <div className="px-3 pb-1 pt-2">
        <label htmlFor="chat-search" className="sr-only">
          Search chats
        </label>
        <div className="relative">
          <Icon d={convoIcons.search} className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-slate-500" />
          <input
            id="chat-search"
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Search chats"
            autoComplete="off"
            className="block w-full rounded-full border border-slate-300 bg-slate-50 py-1.5 pl-9 pr-3 text-sm text-slate-900 outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
          />
        </div>
      </div>
      {(archivedList.length > 0 || showArchived) && (
        <button
          type="button"
          onClick={() => setShowArchived((v) => !v)}
          aria-expanded={showArchived}
          data-testid="archived-toggle"
          className="flex min-h-11 w-full items-center gap-3 px-4 text-left text-sm font-medium text-slate-700 hover:bg-slate-50"
        >
          <Icon d={showArchived ? icons.back : convoIcons.archive} className="h-4 w-4 text-slate-600" />
          {showArchived ? 'Back to chats' : `Archived (${archivedList.length})`}
        </button>
      )}
      {shown.length === 0 && <p className="px-4 py-6 text-center text-sm text-slate-600">{q ? `No chats match “${query.trim()}”.` : 'No archived chats.'}</p>}
      <ul className="divide-y divide-slate-100" data-testid="conversation-list">
        {shown.map((c) => (
          <li key={c.id} className="group/item relative">
            <ConversationListItem conv={c} active={c.id === activeId} />
            <ChatMenu conv={c} />
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** ChatMenu is a conversation's actions in the list: pin to the top, archive, mark unread. */
function ChatMenu({ conv }: { conv: Conversation }) {
  const entry = useChatList()[conv.id];
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [error, setError] = useState<string>();
  const button = useRef<HTMLButtonElement>(null);
  const act = (patch: { pinned?: boolean; archived?: boolean; marked_unread?: boolean }) => () => {
    setAnchor(null);
    updateChatList(conv.id, patch).then(
      () => setError(undefined),
      (e) => setError((e as Error).message),
    );
  };
  const unread = (conv.unread ?? 0) > 0 || !!entry?.marked_unread;
  const actions: MessageAction[] = [
    { key: 'pin', label: entry?.pinned_at ? 'Unpin from top' : 'Pin to top', onSelect: act({ pinned: !entry?.pinned_at }) },
    { key: 'archive', label: entry?.archived_at ? 'Unarchive' : 'Archive', onSelect: act({ archived: !entry?.archived_at }) },
    { key: 'unread', label: unread ? 'Mark as read' : 'Mark as unread', onSelect: act({ marked_unread: !unread }) },
  ];
  return (
    <>
      <button
        ref={button}
        type="button"
        aria-label={`Chat actions: ${conv.name}`}
        aria-haspopup="menu"
        aria-expanded={anchor !== null}
        onClick={() => setAnchor(anchor ? null : button.current)}
        className={`absolute right-2 top-1/2 inline-flex h-8 w-8 -translate-y-1/2 items-center justify-center rounded-full bg-surface text-slate-600 shadow-sm ring-1 ring-slate-200 transition-opacity hover:text-slate-900 focus-visible:opacity-100 group-hover/item:opacity-100 pointer-coarse:h-11 pointer-coarse:w-11 pointer-coarse:opacity-100 ${anchor ? 'opacity-100' : 'opacity-0'}`}
      >
        <Icon d={icons.more} className="h-4 w-4" />
      </button>
      {error && (
        <p role="alert" className="px-4 pb-2 text-xs text-red-700">
          {error}
        </p>
      )}
      {anchor && <MessageMenu anchor={anchor} align="end" label={`Chat actions: ${conv.name}`} actions={actions} onClose={() => setAnchor(null)} />}
    </>
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
  const entry = useChatList()[conv.id];
  const draft = useDraft(me?.id, conv.id);
  const showDraft = !active && draft.trim() !== '';
  const markedUnread = !!entry?.marked_unread && unread === 0;
  const direct = conv.kind === 'direct';
  const typingIds = typing ? Object.keys(typing).map(Number) : [];
  const isTyping = typingIds.length > 0;
  return (
    <Link
      to={`/c/${conv.id}`}
      aria-current={active ? 'page' : undefined}
      data-testid="conversation-item"
      data-conversation-id={conv.id}
      className={`flex items-center gap-3 px-4 py-3 outline-none transition hover:bg-slate-50 focus-visible:bg-brand-50 pointer-coarse:pr-14 ${active ? 'bg-brand-50' : ''}`}
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
            {isTyping ? (
              typingText(typingIds, members, direct)
            ) : showDraft ? (
              <>
                <span className="font-medium text-red-700" data-testid="draft-indicator">
                  Draft:
                </span>{' '}
                {draft.replace(/\s+/g, ' ')}
              </>
            ) : (
              preview(conv.last_message, me?.id, !direct, names)
            )}
          </span>
          {entry?.pinned_at && (
            <span data-testid="pinned-chat" title="Pinned" className="shrink-0 text-slate-600">
              <Icon d={convoIcons.pin} className="h-4 w-4" />
              <span className="sr-only">Pinned</span>
            </span>
          )}
          {markedUnread && <span data-testid="marked-unread" aria-label="Marked unread" role="img" className="h-3 w-3 shrink-0 rounded-full bg-accent" />}
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
