// The scrolling history of one conversation: date separators, a "new
// messages" divider at the first unread, older pages loaded on scroll-back,
// and read marks reported for messages actually seen (tab visible, message
// scrolled into view). A jump to a message (a search result through ?at=,
// a quote, the pinned bar) centres and highlights it; one far back opens a
// window of the history around it, which loads older and newer pages on
// scroll until it joins the live history, or is left by "Jump to the
// latest" (state/chat.ts: openWindow).
import { Fragment, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { adminApi } from '../api/admin';
import { api } from '../api/http';
import type { Attachment, Conversation, Message } from '../api/types';
import { chat, client } from '../app';
import { dayKey, formatDay, nameOf } from '../lib/format';
import { applyMessages, markOf, shownMessages } from '../state/chat';
import { jumps, setReplyTo } from '../state/compose';
import { setPins, usePins } from '../state/lists';
import { previewOf } from '../state/convo';
import { useStore } from '../state/store';
import { OpenImage } from './Attachments';
import { Lightbox } from './Lightbox';
import { MessageBubble, PendingBubble, type MentionNames } from './MessageBubble';
import { MessageInfo } from './MessageInfo';
import { Forwarding } from './ForwardDialog';
import type { MessageAction } from './MessageMenu';
import { SystemMessage } from './SystemMessage';
import { CopyButton, Spinner } from './ui';

const EMPTY: Message[] = [];

/**
 * MessageList shows a conversation's messages. at (a seq, 0 for none) opens
 * it at that message; onLatest is called when the person leaves it for the
 * latest messages (to drop ?at= from the address).
 */
export function MessageList({ conv, dividerAfter, at = 0, onLatest }: { conv: Conversation; dividerAfter: number | null; at?: number; onLatest?: () => void }) {
  const cm = useStore(chat, (s) => s.messages[conv.id]);
  const members = useStore(chat, (s) => s.members[conv.id]);
  const me = useStore(chat, (s) => s.me);
  const outbox = useStore(chat, (s) => s.outbox);
  const shown = useMemo(() => shownMessages(cm), [cm]);
  const items = shown?.items ?? EMPTY;
  const hasOlder = shown?.hasOlder ?? false;
  // Older history opened at a message, not yet joined to the latest.
  const inWindow = !!shown?.window;
  const group = conv.kind === 'group';

  const pending = useMemo(() => {
    const live = cm?.items ?? EMPTY;
    const stored = new Set(live.filter((m) => m.sender_id === me?.id && m.client_msg_id).map((m) => m.client_msg_id));
    return outbox.filter((o) => o.conversation_id === conv.id && !stored.has(o.client_msg_id));
  }, [outbox, cm, me, conv.id]);

  const names = useMemo(() => {
    const map = new Map<number, string>();
    for (const m of items) if (m.sender) map.set(m.sender.id, nameOf(m.sender));
    for (const m of members ?? []) map.set(m.user_id, nameOf(m));
    if (conv.peer) map.set(conv.peer.id, nameOf(conv.peer));
    if (me) map.set(me.id, 'You');
    return (id: number) => map.get(id) ?? 'Someone';
  }, [items, members, me, conv.peer]);

  // The usernames (lower case) of the members a message mentions: members,
  // senders, the peer and me are enough, since only members are mentioned.
  const mentionNames = useMemo(() => {
    const map = new Map<number, string>();
    for (const m of items) if (m.sender) map.set(m.sender.id, m.sender.username.toLowerCase());
    for (const m of members ?? []) map.set(m.user_id, m.username.toLowerCase());
    if (conv.peer) map.set(conv.peer.id, conv.peer.username.toLowerCase());
    if (me) map.set(me.id, me.username.toLowerCase());
    return (ids: number[]): MentionNames => ({
      names: new Set(ids.map((id) => map.get(id)).filter((n): n is string => !!n)),
      me: me && ids.includes(me.id) ? me.username.toLowerCase() : undefined,
    });
  }, [items, members, me, conv.peer]);

  // ---- scrolling ----
  const scroller = useRef<HTMLDivElement>(null);
  const nearBottom = useRef(true);
  const initialized = useRef(false);
  const prev = useRef({ first: 0, last: 0, pending: 0, height: 0, window: false });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string>();
  const [loadingNewer, setLoadingNewer] = useState(false);
  const [newerError, setNewerError] = useState<string>();
  // The message a jump wants centred once it is on screen.
  const centreSeq = useRef<number | null>(null);
  // Leaving a window for the latest: scroll to the bottom once it is shown.
  const toBottom = useRef(false);

  const centre = (seq: number): boolean => {
    const el = scroller.current?.querySelector<HTMLElement>(`[data-seq="${seq}"]`);
    if (!el) return false;
    nearBottom.current = false;
    el.scrollIntoView({ block: 'center' });
    return true;
  };

  const loadOlder = useCallback(async () => {
    if (loadingOlder || !hasOlder) return;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      await client.loadOlder(conv.id);
    } catch (e) {
      setOlderError((e as Error).message);
    } finally {
      setLoadingOlder(false);
    }
  }, [conv.id, hasOlder, loadingOlder]);

  // In a window: the page after its newest message (it joins the latest once it reaches them).
  const loadNewer = useCallback(async () => {
    if (loadingNewer || !inWindow) return;
    setLoadingNewer(true);
    setNewerError(undefined);
    try {
      await client.loadNewer(conv.id);
    } catch (e) {
      setNewerError((e as Error).message);
    } finally {
      setLoadingNewer(false);
    }
  }, [conv.id, inWindow, loadingNewer]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    nearBottom.current = fromBottom < 120;
    prev.current.height = el.scrollHeight;
    if (el.scrollTop < 150 && hasOlder && !loadingOlder && !olderError) void loadOlder();
    if (fromBottom < 150 && inWindow && !loadingNewer && !newerError) void loadNewer();
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = items.length ? items[0].seq : 0;
    const last = items.length ? items[items.length - 1].seq : 0;
    const p = prev.current;
    if (!initialized.current) {
      if (cm) {
        initialized.current = true;
        const divider = el.querySelector<HTMLElement>('[data-testid="new-messages-divider"]');
        if (divider) el.scrollTop = Math.max(0, divider.offsetTop - el.clientHeight / 3);
        else el.scrollTop = el.scrollHeight;
        nearBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
      }
    } else if (toBottom.current && !inWindow) {
      toBottom.current = false;
      el.scrollTop = el.scrollHeight;
      nearBottom.current = true;
    } else if (inWindow !== p.window || (inWindow && first !== p.first && last !== p.last)) {
      // A window opened, was replaced, or joined the latest: a jump centres
      // its message; a join keeps the place (the window is the top of the list).
    } else if (first && p.first && first < p.first) {
      // Older history was added above: keep what the user looks at in place.
      el.scrollTop += el.scrollHeight - p.height;
    } else if (!inWindow && (last > p.last || pending.length > p.pending)) {
      // (A window's newer pages go below what is read: no following them.)
      const lastMine = items.length > 0 && items[items.length - 1].sender_id === me?.id;
      if (nearBottom.current || pending.length > p.pending || (lastMine && last > p.last)) el.scrollTop = el.scrollHeight;
    }
    if (centreSeq.current !== null && centre(centreSeq.current)) centreSeq.current = null;
    prev.current = { first, last, pending: pending.length, height: el.scrollHeight, window: inWindow };
  }, [items, pending.length, cm, me, inWindow]);

  // The list shrinks when the composer grows or the keyboard opens: stay at
  // the bottom if that is where the user was.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (nearBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Fill a short screen: fetch older pages while there is nothing to
  // scroll (in a window at the start of the history, newer ones).
  useEffect(() => {
    const el = scroller.current;
    if (el && hasOlder && !loadingOlder && !olderError && el.scrollHeight <= el.clientHeight + 150) void loadOlder();
  }, [items, hasOlder, loadingOlder, olderError, loadOlder]);
  useEffect(() => {
    const el = scroller.current;
    if (el && inWindow && !hasOlder && !loadingNewer && !newerError && el.scrollHeight <= el.clientHeight + 150) void loadNewer();
  }, [items, hasOlder, inWindow, loadingNewer, newerError, loadNewer]);

  // ---- read marks: report what is seen ----
  const readSeq = conv.read_seq ?? 0;
  const visible = useRef(new Set<number>());
  const report = useCallback(() => {
    if (document.visibilityState !== 'visible' || visible.current.size === 0) return;
    const max = Math.max(...visible.current);
    if (max > (chat.get().conversations[conv.id]?.read_seq ?? 0)) client.markRead(conv.id, max);
  }, [conv.id]);

  useEffect(() => {
    const root = scroller.current;
    if (!root || typeof IntersectionObserver === 'undefined') return;
    visible.current = new Set();
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const seq = Number((e.target as HTMLElement).dataset.seq);
          const seen = e.isIntersecting && (e.intersectionRatio >= 0.5 || e.intersectionRect.height >= 0.5 * (e.rootBounds?.height ?? Infinity));
          if (seen) visible.current.add(seq);
          else visible.current.delete(seq);
        }
        report();
      },
      { root, threshold: [0, 0.5, 1] },
    );
    root.querySelectorAll<HTMLElement>('[data-seq]').forEach((el) => {
      if (Number(el.dataset.seq) > readSeq) io.observe(el);
    });
    return () => io.disconnect();
  }, [items, readSeq, report]);

  useEffect(() => {
    const onVis = () => report();
    document.addEventListener('visibilitychange', onVis);
    window.addEventListener('focus', onVis);
    return () => {
      document.removeEventListener('visibilitychange', onVis);
      window.removeEventListener('focus', onVis);
    };
  }, [report]);

  // ---- replies and reactions ----
  const [highlight, setHighlight] = useState<number | null>(null);
  const [jumpError, setJumpError] = useState<string>();
  const [reported, setReported] = useState<string>();
  // Report a message to the instance's admins, with a reason asked first.
  const reportMessage = async (m: Message) => {
    const reason = window.prompt('Report this message to the admins of this Parley. Why? (optional)');
    if (reason === null) return;
    try {
      await adminApi.report(conv.id, m.seq, reason.trim().slice(0, 500));
      setReported('Reported to the admins. Thank you.');
    } catch (e) {
      setReported((e as Error).message);
    }
  };
  const highlightTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (highlightTimer.current) clearTimeout(highlightTimer.current);
  }, []);
  const bySeq = useMemo(() => new Map(items.map((m) => [m.seq, m])), [items]);
  /**
   * jump shows the message at seq centred and highlighted (held, or the
   * history around it loaded first; see client.openAt). keep leaves the
   * highlight on (the current search match) instead of fading it.
   */
  const jumpN = useRef(0);
  const jump = async (seq: number, keep = false) => {
    const n = ++jumpN.current;
    setJumpError(undefined);
    centreSeq.current = seq;
    let held: boolean;
    try {
      held = await client.openAt(conv.id, seq);
    } catch {
      held = false;
    }
    if (jumpN.current !== n) return; // another jump, or the latest, came after
    if (!held) {
      centreSeq.current = null;
      setJumpError('That message could not be loaded.');
      return;
    }
    setHighlight(seq);
    if (highlightTimer.current) clearTimeout(highlightTimer.current);
    highlightTimer.current = keep ? null : setTimeout(() => setHighlight(null), 2500);
    // Held already: nothing changed to centre it on render.
    requestAnimationFrame(() => {
      if (centreSeq.current === seq && centre(seq)) centreSeq.current = null;
    });
  };
  /** latest leaves a window (and a jump) for the latest messages. */
  const latest = () => {
    jumpN.current++;
    centreSeq.current = null;
    setHighlight(null);
    if (chat.get().messages[conv.id]?.window) {
      toBottom.current = true;
      client.closeWindow(conv.id);
    } else {
      const el = scroller.current;
      if (el) el.scrollTop = el.scrollHeight;
      nearBottom.current = true;
    }
  };
  // The pinned bar asks for a message.
  const jumpRequest = useStore(jumps, (j) => (j && j.id === conv.id ? j : null));
  const jumpRef = useRef(jump);
  const latestRef = useRef(latest);
  useEffect(() => {
    jumpRef.current = jump;
    latestRef.current = latest;
  });
  useEffect(() => {
    if (jumpRequest) void jumpRef.current(jumpRequest.seq);
  }, [jumpRequest]);
  // The address asks for a message (?at=seq: a search result); without it
  // again, back to the latest.
  const lastAt = useRef(0);
  useEffect(() => {
    if (at > 0) void jumpRef.current(at, true);
    else if (lastAt.current > 0) latestRef.current();
    lastAt.current = at;
  }, [at]);
  // Sending from a window shows the latest, where the message goes.
  const sent = useRef(pending.length);
  useEffect(() => {
    if (pending.length > sent.current && chat.get().messages[conv.id]?.window) {
      latestRef.current();
      onLatest?.();
    }
    sent.current = pending.length;
  }, [pending.length, conv.id, onLatest]);
  // A conversation opened again starts at the latest.
  useEffect(() => () => client.closeWindow(conv.id), [conv.id]);
  const pins = usePins(conv.id);
  const canPin = conv.kind === 'direct' || conv.role === 'owner' || conv.role === 'admin';
  const pinActions = (m: Message): MessageAction[] => {
    if (!canPin || m.kind !== 'text') return [];
    const pinned = !!pins?.some((p) => p.seq === m.seq);
    return [
      {
        key: 'pin',
        label: pinned ? 'Unpin' : 'Pin',
        onSelect: () => void api.pin(conv.id, m.seq, !pinned).then((r) => setPins(conv.id, r.pins), (e) => setJumpError((e as Error).message)),
      },
    ];
  };
  const [info, setInfo] = useState<Message | null>(null);
  const [forwarding, setForwarding] = useState<Message | null>(null);
  const reply = (m: Message) => setReplyTo(conv.id, m);
  const react = async (m: Message, emoji: string, on: boolean) => {
    const { message } = await api.react(conv.id, m.seq, emoji, on);
    chat.set((s) => applyMessages(s, conv.id, [message]));
  };
  const quoteOf = (m: Message) => {
    if (!m.reply_to) return undefined;
    const original = bySeq.get(m.reply_to);
    return original ? previewOf(original) : m.reply;
  };

  // ---- actions on my messages ----
  const edit = async (m: Message, text: string) => {
    const { message } = await api.editMessage(conv.id, m.seq, text);
    chat.set((s) => applyMessages(s, conv.id, [message]));
  };
  const del = async (m: Message) => {
    const { message } = await api.deleteMessage(conv.id, m.seq);
    chat.set((s) => applyMessages(s, conv.id, [message]));
  };

  const firstUnread = dividerAfter === null ? -1 : items.findIndex((m) => m.seq > dividerAfter);

  // ---- the lightbox: every image of the messages held, in order ----
  const gallery = useMemo(() => items.flatMap((m) => (m.deleted_at ? [] : (m.attachments ?? []).filter((a) => a.thumbnail_url))), [items]);
  const [viewing, setViewing] = useState<number | null>(null);
  const viewIndex = viewing === null ? -1 : gallery.findIndex((a) => a.id === viewing);
  const openImage = useCallback((a: Attachment) => setViewing(a.id), []);
  const closeImage = useCallback(() => setViewing(null), []);
  const showIndex = useCallback((i: number) => setViewing(gallery[i]?.id ?? null), [gallery]);

  return (
    <OpenImage.Provider value={openImage}>
    {viewIndex >= 0 && <Lightbox images={gallery} index={viewIndex} onIndex={showIndex} onClose={closeImage} />}
    <div ref={scroller} onScroll={onScroll} className="chat-wallpaper flex min-h-0 flex-1 flex-col overflow-y-auto overflow-x-hidden py-3" data-testid="message-list" data-menu-area tabIndex={0} aria-label="Messages" role="log">
      {/* Messages stack from the bottom, like every messenger: the space left is above them. */}
      <div aria-hidden="true" className="flex-1" data-testid="message-list-spacer" />
      {hasOlder && (
        <div className="flex justify-center py-2">
          {loadingOlder ? (
            <Spinner label="Loading older messages" />
          ) : (
            <button type="button" onClick={() => void loadOlder()} className="rounded-full bg-surface/90 px-3 py-1 text-xs font-medium text-slate-700 shadow-sm hover:bg-surface">
              {olderError ? 'Could not load older messages. Try again' : 'Load older messages'}
            </button>
          )}
        </div>
      )}
      {!cm && (
        <div className="flex justify-center py-10">
          <Spinner label="Loading messages" />
        </div>
      )}
      {cm && group && conv.code && !items.some((m) => m.kind !== 'system') && pending.length === 0 && <ShareCodePrompt conv={conv} />}
      {cm && items.length === 0 && pending.length === 0 && !(group && conv.code) && <p className="py-10 text-center text-sm text-slate-600">No messages yet. Say hello!</p>}
      {items.map((m, i) => {
        const prevMsg = i > 0 ? items[i - 1] : null;
        const newDay = !prevMsg || dayKey(prevMsg.created_at) !== dayKey(m.created_at);
        const showSender = newDay || i === firstUnread || !prevMsg || prevMsg.sender_id !== m.sender_id || prevMsg.kind === 'system';
        const mine = m.sender_id === me?.id && m.kind !== 'system';
        return (
          <Fragment key={m.seq}>
            {newDay && <DateSeparator iso={m.created_at} />}
            {i === firstUnread && <NewMessagesDivider />}
            {m.kind === 'system' ? (
              <SystemMessage message={m} name={names} meId={me?.id} />
            ) : (
              <MessageBubble
                message={m}
                mine={mine}
                group={group}
                showSender={showSender}
                mark={mine ? markOf(m, members, me!.id) : undefined}
                onEdit={mine ? (t) => edit(m, t) : undefined}
                onDelete={mine ? () => del(m) : undefined}
                meId={me?.id}
                name={names}
                onReply={() => reply(m)}
                onForward={() => setForwarding(m)}
                onReact={(e, on) => react(m, e, on)}
                quote={quoteOf(m)}
                onJump={(seq) => void jump(seq)}
                highlight={highlight === m.seq}
                mentions={m.mentions?.length ? mentionNames(m.mentions) : undefined}
                extraActions={[...pinActions(m), ...(mine && m.kind === 'text' ? [{ key: 'info', label: 'Info', onSelect: () => setInfo(m) }] : []), ...(!mine && m.kind === 'text' ? [{ key: 'report', label: 'Report…', onSelect: () => void reportMessage(m) }] : [])]}
              />
            )}
          </Fragment>
        );
      })}
      {reported && (
        <p role="status" className="mx-auto my-2 rounded-full bg-surface px-3 py-1 text-xs text-slate-700 shadow-sm">
          {reported}
        </p>
      )}
      <Forwarding from={conv} message={forwarding} onClose={() => setForwarding(null)} />
      {info && me && <MessageInfo conv={conv} message={info} members={members} meId={me.id} onClose={() => setInfo(null)} />}
      {jumpError && (
        <p role="alert" className="mx-auto my-2 rounded-full bg-surface px-3 py-1 text-xs text-red-700 shadow-sm">
          {jumpError}
        </p>
      )}
      {inWindow && (
        <div className="flex justify-center py-2">
          {loadingNewer ? (
            <Spinner label="Loading newer messages" />
          ) : (
            <button type="button" onClick={() => void loadNewer()} className="rounded-full bg-surface/90 px-3 py-1 text-xs font-medium text-slate-700 shadow-sm hover:bg-surface">
              {newerError ? 'Could not load newer messages. Try again' : 'Load newer messages'}
            </button>
          )}
        </div>
      )}
      {!inWindow &&
        pending.map((o) => (
          <PendingBubble key={o.client_msg_id} item={o} onRetry={() => client.retry(o.client_msg_id)} onDiscard={() => client.discard(o.client_msg_id)} />
        ))}
    </div>
    {inWindow && (
      <div className="flex shrink-0 flex-wrap items-center justify-center gap-x-3 gap-y-1 border-t border-slate-200 bg-surface px-3 py-1.5 text-xs text-slate-600" data-testid="window-bar">
        <span>Viewing earlier messages</span>
        <button
          type="button"
          onClick={() => {
            latest();
            onLatest?.();
          }}
          className="rounded-full bg-accent px-3 py-1 text-sm font-medium text-white hover:bg-accent-hover"
          data-testid="jump-latest"
        >
          Jump to the latest
          {(conv.unread ?? 0) > 0 && <span data-testid="jump-latest-unread"> · {conv.unread} unread</span>}
        </button>
      </div>
    )}
    </OpenImage.Provider>
  );
}

function DateSeparator({ iso }: { iso: string }) {
  return (
    <div className="my-3 flex justify-center" data-testid="date-separator">
      <span className="rounded-lg bg-surface/95 px-3 py-1 text-xs font-medium text-slate-700 shadow-sm">{formatDay(iso)}</span>
    </div>
  );
}

/** ShareCodePrompt invites the members of a group with no messages yet to share its join code. */
function ShareCodePrompt({ conv }: { conv: Conversation }) {
  return (
    <div className="mx-auto my-6 w-[min(24rem,calc(100%-2rem))] rounded-2xl bg-surface p-5 text-center shadow-sm" data-testid="share-code-prompt">
      <h2 className="font-semibold text-slate-900">Invite people to {conv.name}</h2>
      <p className="mt-1 text-sm text-slate-600">Share this code; anyone with it can join the group.</p>
      <div className="mt-3 flex items-center justify-center gap-2">
        <code className="min-w-0 rounded-lg bg-slate-100 px-3 py-1.5 font-mono text-base tracking-wide text-slate-900 wrap-anywhere" data-testid="share-code">
          {conv.code}
        </code>
        <CopyButton text={conv.code ?? ''} label="Copy code" />
      </div>
    </div>
  );
}

function NewMessagesDivider() {
  return (
    <div className="my-3 flex items-center gap-3 px-6" data-testid="new-messages-divider" role="separator" aria-label="New messages">
      <span className="h-px flex-1 bg-brand-500/40" />
      <span className="rounded-full bg-accent px-3 py-0.5 text-xs font-semibold text-white shadow-sm">New messages</span>
      <span className="h-px flex-1 bg-brand-500/40" />
    </div>
  );
}
