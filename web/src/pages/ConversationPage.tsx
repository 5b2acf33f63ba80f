// One conversation: header with presence, the messages, typing, composer,
// and the members panel for groups.
import { useEffect, useState } from 'react';
import { isDeleted } from '../api/account';
import { api, ApiError } from '../api/http';
import type { Conversation } from '../api/types';
import { chat, client, session } from '../app';
import { CallButtonsSlot } from '../components/CallButtonsSlot';
import { Composer } from '../components/Composer';
import { FileDrop } from '../components/ComposerFiles';
import { Handle } from '../components/Handle';
import { MembersPanel } from '../components/MembersPanel';
import { MessageList } from '../components/MessageList';
import { NotifyButton } from '../components/NotifyButton';
import { PinnedBar } from '../components/PinnedBar';
import { TypingIndicator } from '../components/TypingIndicator';
import { Avatar, Icon, icons, Spinner } from '../components/ui';
import { photoOf } from '../lib/files';
import { formatLastSeen, nameOf } from '../lib/format';
import { Link, navigate, useLocation } from '../lib/router';
import { ConversationSearch } from '../search/ConversationSearch';
import { upsertConversation } from '../state/chat';
import { useStore } from '../state/store';

export function ConversationPage({ id }: { id: number }) {
  const conv = useStore(chat, (s) => s.conversations[id]);
  const everSynced = useStore(chat, (s) => s.connection.everSynced);
  // The id the server said does not exist (or is not mine).
  const [missingId, setMissingId] = useState<number | null>(null);
  const missing = missingId === id;
  const known = !!conv;

  // A conversation the store does not know yet (a link, or just joined).
  useEffect(() => {
    if (chat.get().conversations[id]) return;
    let live = true;
    api.conversation(id).then(
      ({ conversation }) => live && chat.set((s) => upsertConversation(s, conversation)),
      (e) => live && e instanceof ApiError && e.status === 404 && setMissingId(id),
    );
    return () => {
      live = false;
    };
  }, [id]);

  // Once the conversation is known, not on every change of it.
  useEffect(() => {
    if (known) void client.ensureLoaded(id).catch(() => {});
  }, [id, known]);

  if (!conv) {
    if (missing || (everSynced && Number.isNaN(id)))
      return (
        <div className="flex flex-1 flex-col items-center justify-center gap-3 p-6 text-center">
          <h1 className="text-lg font-semibold">Conversation not found</h1>
          <p className="text-sm text-slate-500">It does not exist, or you are not a member.</p>
          <Link to="/" className="text-sm font-medium text-brand-700 underline">
            Back to conversations
          </Link>
        </div>
      );
    return (
      <div className="flex flex-1 items-center justify-center">
        <Spinner label="Loading conversation" />
      </div>
    );
  }
  return <ConversationView key={conv.id} conv={conv} />;
}

function ConversationView({ conv }: { conv: Conversation }) {
  const [showMembers, setShowMembers] = useState(false);
  const [searching, setSearching] = useState(false);
  // ?at=seq opens the conversation at a message (a search result).
  const { search } = useLocation();
  const at = Number(new URLSearchParams(search).get('at')) || 0;
  const latest = () => {
    if (at) navigate(`/c/${conv.id}`, { replace: true });
  };
  // The "new messages" divider goes before the first message unread when the
  // conversation was opened; it stays put while reading, and goes once I send.
  const [dividerAfter, setDividerAfter] = useState<number | null>(() => {
    const read = conv.read_seq ?? 0;
    return conv.last_seq > read ? read : null;
  });
  const group = conv.kind === 'group';
  const peerGone = conv.kind === 'direct' && !!conv.peer && isDeleted(conv.peer);
  const filesOn = useStore(session, (s) => !!s.features.files) && !peerGone;

  return (
    <div className="flex min-h-0 min-w-0 flex-1">
      <section className={`flex min-w-0 flex-1 flex-col ${showMembers ? 'hidden md:flex' : 'flex'}`} aria-label={`Conversation ${conv.name}`}>
        <FileDrop conversationId={conv.id} enabled={filesOn} className="flex min-h-0 min-w-0 flex-1 flex-col">
        <ConversationHeader conv={conv} onMembers={() => setShowMembers((v) => !v)} membersOpen={showMembers} onSearch={() => setSearching((v) => !v)} searchOpen={searching} />
        {searching && (
          <ConversationSearch
            conversationId={conv.id}
            onClose={() => {
              setSearching(false);
              if (at) latest();
            }}
          />
        )}
        <PinnedBar conv={conv} />
        <MessageList conv={conv} dividerAfter={dividerAfter} at={at} onLatest={latest} />
        <div className="chat-wallpaper">
          <TypingIndicator conversationId={conv.id} direct={!group} peerName={conv.peer ? nameOf(conv.peer) : conv.name} />
        </div>
        {peerGone ? (
          <p role="note" className="border-t border-slate-200 bg-slate-50 px-4 py-3 text-center text-sm text-slate-700" data-testid="deleted-peer">
            This account was deleted. You can read this chat but not reply.
          </p>
        ) : (
          <>
            {conv.kind === 'direct' && conv.peer?.accepting_messages === false && (
              <p role="note" className="border-t border-amber-200 bg-amber-50 px-4 py-2 text-center text-sm text-amber-900" data-testid="not-accepting">
                {nameOf(conv.peer)} is not accepting direct messages right now.
              </p>
            )}
            <Composer conversationId={conv.id} onSent={() => setDividerAfter(null)} />
          </>
        )}
        </FileDrop>
      </section>
      {group && showMembers && <MembersPanel conv={conv} onClose={() => setShowMembers(false)} />}
    </div>
  );
}

function ConversationHeader({ conv, onMembers, membersOpen, onSearch, searchOpen }: { conv: Conversation; onMembers: () => void; membersOpen: boolean; onSearch: () => void; searchOpen: boolean }) {
  const presence = useStore(chat, (s) => (conv.peer ? s.presence[conv.peer.id] : undefined));
  const direct = conv.kind === 'direct';
  const gone = direct && !!conv.peer && isDeleted(conv.peer);
  const subtitle = gone ? 'No longer on Parley' : direct ? (presence?.online ? 'online' : formatLastSeen(presence?.last_seen ?? conv.peer?.last_seen)) : `${conv.member_count} ${conv.member_count === 1 ? 'member' : 'members'}`;
  return (
    <header className="flex h-16 shrink-0 items-center gap-1 border-b border-slate-200 bg-surface px-2 sm:gap-3 sm:px-4">
      <Link to="/" aria-label="Back to conversations" className="rounded-full p-2 text-slate-600 hover:bg-slate-100 md:hidden">
        <Icon d={icons.back} />
      </Link>
      <Avatar name={conv.name} seed={direct && conv.peer ? conv.peer.id : conv.id * 7 + 3} online={direct && !gone ? !!presence?.online : undefined} src={photoOf(conv)} />
      <div className="min-w-0 flex-1">
        {/* On a phone the header's buttons leave little room: the handle then
            wraps under the name instead of squeezing it away. */}
        <div className="flex min-w-0 flex-wrap items-baseline gap-x-2 pl-1 sm:pl-0">
          <h1 className="max-w-full shrink-[4] truncate font-semibold leading-tight" data-testid="conversation-title">
            {conv.name}
          </h1>
          {direct && conv.peer && <Handle username={conv.peer.username} className="max-w-full text-sm leading-tight text-slate-500" />}
        </div>
        <p className={`truncate text-xs ${direct && presence?.online ? 'text-emerald-700' : 'text-slate-500'}`} data-testid="conversation-subtitle">
          {subtitle}
        </p>
      </div>
      <button type="button" onClick={onSearch} aria-expanded={searchOpen} aria-label="Search in this conversation" data-testid="conversation-search-button" className={`rounded-full p-2 hover:bg-slate-100 ${searchOpen ? 'bg-slate-100 text-brand-700' : 'text-slate-600'}`}>
        <Icon d="M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16zM21 21l-4.35-4.35" />
      </button>
      <NotifyButton conv={conv} />
      {direct && conv.peer && !isDeleted(conv.peer) && <CallButtonsSlot conversation={conv} peer={conv.peer} />}
      {!direct && (
        <button type="button" onClick={onMembers} aria-expanded={membersOpen} aria-label="Group info and members" className={`rounded-full p-2 hover:bg-slate-100 ${membersOpen ? 'bg-slate-100 text-brand-700' : 'text-slate-600'}`}>
          <Icon d={icons.users} />
        </button>
      )}
    </header>
  );
}
