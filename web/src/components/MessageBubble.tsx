// One message: its text (always as text), sender, time, and for my own
// messages the sent / delivered / read mark and the edit / delete actions
// (a menu others extend with extraActions).
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { Message, ReplyPreview } from '../api/types';
import { formatFull, formatTime, nameOf } from '../lib/format';
import type { MessageMark, OutboxItem } from '../state/chat';
import { linkify } from '../lib/links';
import { splitMentions } from '../lib/mentions';
import { MenuItem, MessageMenu, type MessageAction } from './MessageMenu';
import { mineOf, QuickReactions, ReactionChips, ReactionPicker } from './Reactions';
import { ReplyQuote } from './ReplyQuote';
import { ForwardLabel } from './ForwardDialog';
import { MessageAttachments } from './Attachments';
import { PendingFiles } from './PendingFiles';
import { Icon, icons } from './ui';

function Mark({ mark, group }: { mark: MessageMark; group: boolean }) {
  if (group && mark.readBy > 0 && mark.status !== 'read') {
    return (
      <span data-testid="message-mark" data-status="read-by" className="text-sky-700" title={`Read by ${mark.readBy} of ${mark.others}`}>
        Read by {mark.readBy}
      </span>
    );
  }
  const label = mark.status === 'read' ? (group ? 'Read by everyone' : 'Read') : mark.status === 'delivered' ? 'Delivered' : 'Sent';
  return (
    <span data-testid="message-mark" data-status={mark.status} title={label} className={`inline-flex items-center ${mark.status === 'read' ? 'text-sky-700' : 'text-slate-600'}`}>
      <span className="sr-only">{label}</span>
      <Icon d={icons.check} className="h-3.5 w-3.5" />
      {mark.status !== 'sent' && <Icon d={icons.check} className="-ml-2 h-3.5 w-3.5" />}
    </span>
  );
}

export interface MessageBubbleProps {
  message: Message;
  mine: boolean;
  group: boolean;
  showSender: boolean;
  mark?: MessageMark;
  onEdit?: (text: string) => Promise<void>;
  onDelete?: () => Promise<void>;
  /** More actions for the message's menu (replies, reactions, …), after edit and delete. */
  extraActions?: MessageAction[];
  meId?: number;
  /** The name of a member, for who reacted. */
  name?: (id: number) => string;
  /** Answer this message (the menu's Reply, a swipe to the right on touch). */
  onReply?: () => void;
  /** Send this message to other conversations (the menu's Forward). */
  onForward?: () => void;
  /** Add (on) or take back my reaction. */
  onReact?: (emoji: string, on: boolean) => Promise<void>;
  /** What the message answers shows (the original as held, else the server's preview). */
  quote?: ReplyPreview;
  /** Show the message this one answers. */
  onJump?: (seq: number) => void;
  /** Briefly marked: the message a jump went to. */
  highlight?: boolean;
  /** The usernames (lower case) of the members the message mentions, and mine, to highlight. */
  mentions?: MentionNames;
}

export interface MentionNames {
  names: ReadonlySet<string>;
  me?: string;
}

const LONG_PRESS_MS = 500;
/** How far a touch must drag a bubble to the right to answer it. */
const SWIPE_PX = 64;

export function MessageBubble({ message, mine, group, showSender, mark, onEdit, onDelete, extraActions, meId, name, onReply, onForward, onReact, quote, onJump, highlight, mentions }: MessageBubbleProps) {
  const deleted = !!message.deleted_at;
  const mentionsMe = !mine && !deleted && !!mentions?.me && mentions.names.has(mentions.me);
  const [editing, setEditing] = useState<{ width: number } | null>(null);
  const [menu, setMenu] = useState<{ anchor: HTMLElement; confirm: boolean; width: number } | null>(null);
  const [error, setError] = useState<string>();
  const bubbleRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const press = useRef<ReturnType<typeof setTimeout> | null>(null);
  const swipe = useRef<{ x: number; y: number; id: number } | null>(null);
  const [dragX, setDragX] = useState(0);
  const [picker, setPicker] = useState<HTMLElement | null>(null);
  const canAct = mine && !deleted && message.kind === 'text';
  const canReact = !!onReact && !deleted && message.kind === 'text';
  const react = (emoji: string, on: boolean) => {
    setMenu(null);
    setPicker(null);
    onReact?.(emoji, on).then(
      () => setError(undefined),
      (e) => setError((e as Error).message),
    );
  };

  const actions: MessageAction[] = [];
  if (!deleted && onReply) actions.push({ key: 'reply', label: 'Reply', onSelect: () => (setMenu(null), onReply()) });
  if (!deleted && onForward && message.kind === 'text') actions.push({ key: 'forward', label: 'Forward', onSelect: () => (setMenu(null), onForward()) });
  if (canAct && onEdit)
    actions.push({
      key: 'edit',
      label: 'Edit',
      onSelect: () => {
        setMenu(null);
        setEditing({ width: menu?.width ?? 0 });
      },
    });
  if (canAct && onDelete) actions.push({ key: 'delete', label: 'Delete', danger: true, onSelect: () => setMenu((m) => m && { ...m, confirm: true }) });
  if (!deleted && extraActions) actions.push(...extraActions.map((a) => ({ ...a, onSelect: () => (setMenu(null), a.onSelect()) })));
  const hasMenu = (actions.length > 0 || canReact) && !editing;
  const closeMenu = useCallback(() => setMenu(null), []);

  const openMenu = (anchor: HTMLElement | null) => {
    // The bubble's width now: editing starts at it.
    if (hasMenu && anchor) setMenu({ anchor, confirm: false, width: bubbleRef.current?.offsetWidth ?? 0 });
  };
  // Touch: a long press on the bubble opens the menu (the "…" button shows on hover and focus).
  // A drag to the right answers the message.
  const onPointerDown = (e: PointerEvent) => {
    if (e.pointerType !== 'touch') return;
    if (onReply && !deleted && !editing) swipe.current = { x: e.clientX, y: e.clientY, id: e.pointerId };
    if (!hasMenu) return;
    const target = bubbleRef.current;
    press.current = setTimeout(() => openMenu(target), LONG_PRESS_MS);
  };
  const cancelPress = () => {
    if (press.current) clearTimeout(press.current);
    press.current = null;
  };
  const onPointerMove = (e: PointerEvent) => {
    const s = swipe.current;
    if (!s || s.id !== e.pointerId) return cancelPress();
    const dx = e.clientX - s.x;
    const dy = Math.abs(e.clientY - s.y);
    if (dy > 24 && dy > dx) {
      swipe.current = null;
      setDragX(0);
      return cancelPress();
    }
    if (Math.abs(dx) > 6 || dy > 6) cancelPress();
    setDragX(Math.max(0, Math.min(dx, SWIPE_PX * 1.5)));
  };
  const onPointerUp = (e: PointerEvent) => {
    cancelPress();
    const s = swipe.current;
    swipe.current = null;
    if (s && s.id === e.pointerId && e.clientX - s.x >= SWIPE_PX) onReply?.();
    setDragX(0);
  };
  useEffect(() => cancelPress, []);

  return (
    <div
      className={`group flex px-3 transition-colors duration-700 sm:px-6 ${mine ? 'justify-end' : 'justify-start'} ${showSender ? 'mt-2' : 'mt-0.5'} ${highlight ? 'bg-brand-500/15' : ''}`}
      data-testid="message"
      data-seq={message.seq}
      data-mine={mine ? 'true' : 'false'}
      data-highlight={highlight ? 'true' : undefined}
    >
      <div className={`relative flex min-w-0 max-w-[85%] items-center gap-1 sm:max-w-[70%] ${mine ? 'flex-row-reverse' : ''} ${editing ? 'w-full' : ''}`} style={dragX ? { transform: `translateX(${dragX}px)` } : undefined}>
        <div className={`flex min-w-0 flex-col ${mine ? 'items-end' : 'items-start'} ${editing ? 'flex-1' : ''}`}>
          <div
            ref={bubbleRef}
            data-testid="bubble"
            onPointerDown={onPointerDown}
            onPointerUp={onPointerUp}
            onPointerMove={onPointerMove}
            onPointerCancel={onPointerUp}
            onContextMenu={(e) => {
              if (!hasMenu || editing) return;
              e.preventDefault();
              openMenu(bubbleRef.current);
            }}
            style={editing ? { width: `max(${editing.width}px, min(20rem, 100%))` } : undefined}
            data-mentions-me={mentionsMe ? 'true' : undefined}
            className={`min-w-0 max-w-full touch-pan-y rounded-2xl px-3 py-1.5 shadow-sm ${mine ? 'rounded-br-md bg-bubble-mine' : 'rounded-bl-md bg-bubble'} ${mentionsMe ? 'ring-2 ring-amber-400' : ''}`}
          >
            {showSender && !mine && group && <div className="mb-0.5 text-xs font-semibold text-brand-700">{nameOf(message.sender)}</div>}
            {message.forwarded && !deleted && !editing && <ForwardLabel />}
            {quote && !deleted && !editing && <ReplyQuote preview={quote} meId={meId} mine={mine} onJump={onJump ? () => onJump(quote.seq) : undefined} />}
            {editing && onEdit ? (
              <EditBox
                initial={message.text}
                onCancel={() => setEditing(null)}
                onSave={async (t) => {
                  try {
                    await onEdit(t);
                    setEditing(null);
                    setError(undefined);
                  } catch (e) {
                    setError((e as Error).message);
                  }
                }}
              />
            ) : deleted ? (
              <p className="text-sm italic text-slate-600" data-testid="message-text">
                This message was deleted
              </p>
            ) : (
              <>
                {message.attachments && message.attachments.length > 0 && <MessageAttachments files={message.attachments} />}
                {(message.text !== '' || !message.attachments?.length) && (
                  <p className="whitespace-pre-wrap text-[15px] leading-snug text-slate-900 wrap-anywhere" data-testid="message-text">
                    <MessageText text={message.text} mentions={mentions} />
                  </p>
                )}
              </>
            )}
            {!editing && (
              <div className="mt-0.5 flex items-center justify-end gap-1.5 text-[11px] text-slate-600">
                {message.edited_at && !deleted && <span>edited</span>}
                <time dateTime={message.created_at} title={formatFull(message.created_at)}>
                  {formatTime(message.created_at)}
                </time>
                {mine && mark && !deleted && <Mark mark={mark} group={group} />}
              </div>
            )}
          </div>
          {!deleted && message.reactions && message.reactions.length > 0 && (
            <ReactionChips reactions={message.reactions} meId={meId} mine={mine} name={name ?? (() => 'Someone')} onToggle={(e, on) => react(e, on)} />
          )}
          {error && (
            <p role="alert" className="mt-1 text-xs text-red-700">
              {error}
            </p>
          )}
        </div>
        {hasMenu && (
          <button
            ref={buttonRef}
            type="button"
            aria-label="Message actions"
            aria-haspopup="menu"
            aria-expanded={menu !== null}
            onClick={() => (menu ? setMenu(null) : openMenu(buttonRef.current))}
            className={`inline-flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-slate-600 opacity-0 transition-opacity hover:bg-surface hover:text-slate-900 focus-visible:opacity-100 group-hover:opacity-100 pointer-coarse:h-11 pointer-coarse:w-11 ${menu ? 'opacity-100' : ''}`}
          >
            <Icon d={icons.more} className="h-4 w-4" />
          </button>
        )}
      </div>
      {menu && (
        <MessageMenu
          anchor={menu.anchor}
          align={mine ? 'end' : 'start'}
          label="Message actions"
          actions={actions}
          onClose={closeMenu}
          top={
            canReact && !menu.confirm ? (
              <QuickReactions
                mine={mineOf(message.reactions, meId)}
                onPick={react}
                onMore={() => {
                  setMenu(null);
                  setPicker(bubbleRef.current);
                }}
              />
            ) : undefined
          }
        >
          {menu.confirm ? (
            <>
              <p className="px-4 py-2 text-sm text-slate-600">Delete this message for everyone?</p>
              <MenuItem
                danger
                strong
                onClick={async () => {
                  setMenu(null);
                  try {
                    await onDelete?.();
                  } catch (e) {
                    setError((e as Error).message);
                  }
                }}
              >
                Delete for everyone
              </MenuItem>
              <MenuItem onClick={() => setMenu(null)}>Cancel</MenuItem>
            </>
          ) : undefined}
        </MessageMenu>
      )}
      {picker && <ReactionPicker anchor={picker} align={mine ? 'end' : 'start'} onPick={(e) => react(e, !mineOf(message.reactions, meId).has(e))} onClose={() => setPicker(null)} />}
    </div>
  );
}

/**
 * MessageText is a message's text with its links (http(s) and e-mail) made
 * links and its mentions of members highlighted (mine most).
 */
export function MessageText({ text, mentions }: { text: string; mentions?: MentionNames }) {
  return (
    <>
      {linkify(text).map((s, i) =>
        s.href ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer" className="text-sky-700 underline underline-offset-2 wrap-anywhere hover:text-sky-800">
            {s.text}
          </a>
        ) : mentions ? (
          splitMentions(s.text, mentions.names).map((m, j) =>
            m.username ? (
              <span
                key={`${i}-${j}`}
                data-testid="mention"
                data-me={m.username === mentions.me ? 'true' : undefined}
                className={m.username === mentions.me ? 'rounded bg-amber-100 px-0.5 font-semibold text-amber-900' : 'font-semibold text-brand-700'}
              >
                {m.text}
              </span>
            ) : (
              m.text
            ),
          )
        ) : (
          s.text
        ),
      )}
    </>
  );
}

/** EditBox edits a message in place, at the bubble's width, growing with the text; Enter saves, Esc cancels. */
function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (t: string) => Promise<void>; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el) {
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    }
  }, []);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 320)}px`;
    // Keep the growing box (and its buttons) in view.
    el.parentElement?.scrollIntoView({ block: 'nearest' });
  }, [text]);
  const save = () => {
    const t = text.trim();
    if (!t || t === initial) return onCancel();
    void onSave(t);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      save();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      onCancel();
    }
  };
  return (
    <div>
      <label className="sr-only" htmlFor={`edit-${initial.length}`}>
        Edit message
      </label>
      <textarea
        id={`edit-${initial.length}`}
        ref={ref}
        value={text}
        rows={1}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        className="block w-full resize-none rounded-md bg-surface/70 px-1.5 py-1 text-[15px] leading-snug text-slate-900 outline-none ring-1 ring-slate-300 focus:ring-2 focus:ring-brand-500"
      />
      <div className="mt-1 flex items-center justify-end gap-1 text-xs">
        <span className="mr-auto hidden text-slate-600 sm:inline">Esc to cancel, Enter to save</span>
        <button type="button" onClick={onCancel} className="min-h-8 rounded px-2 text-slate-700 hover:bg-slate-100 pointer-coarse:min-h-11">
          Cancel
        </button>
        <button type="button" onClick={save} className="min-h-8 rounded bg-accent px-2 font-medium text-white hover:bg-accent-hover pointer-coarse:min-h-11">
          Save
        </button>
      </div>
    </div>
  );
}

/** PendingBubble is a message in the outbox: waiting, or refused. */
export function PendingBubble({ item, onRetry, onDiscard }: { item: OutboxItem; onRetry: () => void; onDiscard: () => void }) {
  return (
    <div className="mt-0.5 flex justify-end px-3 sm:px-6" data-testid="pending-message">
      <div className="max-w-[85%] sm:max-w-[70%]">
        <div className={`rounded-2xl rounded-br-md px-3 py-1.5 shadow-sm ${item.error ? 'bg-red-50 ring-1 ring-red-200' : 'bg-bubble-mine/70'}`}>
          {item.files && item.files.length > 0 && <PendingFiles item={item} />}
          {(item.text !== '' || !item.files?.length) && (
            <p className="whitespace-pre-wrap text-[15px] leading-snug text-slate-900 wrap-anywhere" data-testid="message-text">
              <MessageText text={item.text} />
            </p>
          )}
          <div className="mt-0.5 flex items-center justify-end gap-1 text-[11px] text-slate-600">
            {item.error ? (
              <span className="text-red-700">Not sent</span>
            ) : (
              <span className="inline-flex items-center gap-1" data-testid="message-mark" data-status="pending">
                <Icon d={icons.clock} className="h-3 w-3" />
                Waiting to send
              </span>
            )}
          </div>
        </div>
        {item.error && (
          <p className="mt-1 flex flex-wrap items-center justify-end gap-2 text-xs text-red-700" role="alert">
            {item.error}
            <button type="button" onClick={onRetry} className="font-medium underline">
              Retry
            </button>
            <button type="button" onClick={onDiscard} className="font-medium underline">
              Discard
            </button>
          </p>
        )}
      </div>
    </div>
  );
}
