// Forward a message: choose up to five of my conversations (most recent
// first, searchable by name), send, and say where it went. The new messages
// show "Forwarded" and nothing of where they came from.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { createPortal } from 'react-dom';
import { api } from '../api/http';
import type { Conversation, Message } from '../api/types';
import { chat } from '../app';
import { describeFiles, photoOf } from '../lib/files';
import { newClientMsgId } from '../realtime/outbox';
import { applyMessages, conversationsByActivity } from '../state/chat';
import { FORWARD_MAX, forwardChoices, forwardSummary, toggleChoice } from '../state/forward';
import { useStore } from '../state/store';
import { convoIcons } from './convoIcons';
import { Handle } from './Handle';
import { Avatar, Button, Icon, icons } from './ui';

/** ForwardLabel is the line a forwarded message shows above its content. */
export function ForwardLabel() {
  return (
    <div className="mb-0.5 flex items-center gap-1 text-xs italic text-slate-600" data-testid="forwarded-label">
      <Icon d={convoIcons.forward} className="h-3.5 w-3.5 shrink-0" />
      Forwarded
    </div>
  );
}

/**
 * Forwarding is the forward dialog for message (when not null) and, once it
 * is sent, the note that says where it went.
 */
export function Forwarding({ from, message, onClose }: { from: Conversation; message: Message | null; onClose: () => void }) {
  const [note, setNote] = useState<{ text: string; failed: boolean } | null>(null);
  useEffect(() => {
    if (!note) return;
    const t = setTimeout(() => setNote(null), 6000);
    return () => clearTimeout(t);
  }, [note]);
  // On the page itself, not inside the message list (a live log).
  return createPortal(
    <>
      {message && (
        <ForwardDialog
          from={from}
          message={message}
          onClose={onClose}
          onDone={(text, failed) => {
            onClose();
            setNote({ text, failed });
          }}
        />
      )}
      {note && (
        <div className="pointer-events-none fixed inset-x-0 bottom-24 z-40 flex justify-center px-4">
          <p
            role="status"
            data-testid="forward-note"
            className={`pointer-events-auto max-w-md rounded-2xl bg-surface px-4 py-2 text-sm shadow-lg ring-1 ring-slate-200 ${note.failed ? 'text-red-700' : 'text-slate-900'}`}
          >
            {note.text}
          </p>
        </div>
      )}
    </>,
    document.body,
  );
}

function ForwardDialog({ from, message, onClose, onDone }: { from: Conversation; message: Message; onClose: () => void; onDone: (note: string, failed: boolean) => void }) {
  const convs = useStore(chat, (s) => s.conversations);
  const all = useMemo(() => conversationsByActivity(convs), [convs]);
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // One id for this forward: trying again after a lost answer sends nothing twice.
  const clientMsgId = useRef(newClientMsgId());
  const shown = forwardChoices(all, query);
  const nameOfConv = (id: number) => convs[id]?.name ?? 'a chat';
  const full = chosen.length >= FORWARD_MAX;
  // Focus starts in the search box and goes back where it was (the message's
  // menu button, which the closing menu gave it) when the dialog closes. Not
  // autoFocus: the menu gives focus back after this dialog's first render.
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const back = document.activeElement as HTMLElement | null;
    search.current?.focus();
    return () => {
      if (back && document.contains(back)) back.focus();
    };
  }, []);

  const send = async () => {
    if (chosen.length === 0 || busy) return; // busy: not disabled, so that focus stays on the button
    setBusy(true);
    setError(undefined);
    try {
      const { results } = await api.forward(from.id, message.seq, clientMsgId.current, chosen);
      chat.set((s) => results.reduce((acc, r) => (r.message ? applyMessages(acc, r.conversation_id, [r.message]) : acc), s));
      const { sent, failed } = forwardSummary(results, nameOfConv);
      if (!sent) {
        setError(failed.join(' '));
        setBusy(false);
        return;
      }
      onDone([sent + '.', ...failed].join(' '), failed.length > 0);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    }
  };
  const files = message.attachments?.length ? describeFiles(message.attachments) : '';
  const what = message.text ? message.text : files;

  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-black/40 sm:items-center sm:p-4" onClick={onClose}>
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby="forward-title"
        data-testid="forward-dialog"
        onClick={(e) => e.stopPropagation()}
        onKeyDown={onKeyDown}
        className="flex max-h-[85dvh] w-full flex-col rounded-t-2xl bg-surface shadow-xl sm:max-h-[80vh] sm:w-[28rem] sm:rounded-2xl"
      >
        <div className="flex items-center justify-between gap-2 px-5 pb-2 pt-4">
          <h2 id="forward-title" className="font-semibold text-slate-900">
            Forward message
          </h2>
          <button type="button" onClick={onClose} aria-label="Close" className="inline-flex h-11 w-11 items-center justify-center rounded-full text-slate-600 hover:bg-slate-100">
            <Icon d={icons.close} className="h-4 w-4" />
          </button>
        </div>
        <p className="mx-5 line-clamp-2 border-l-4 border-brand-500 py-0.5 pl-3 text-sm text-slate-700 wrap-anywhere" data-testid="forward-preview">
          {files && message.text ? `${files.split(' ')[0]} ` : ''}
          {what}
        </p>
        <div className="px-5 pt-3">
          <label htmlFor="forward-search" className="sr-only">
            Search chats
          </label>
          <div className="relative">
            <Icon d={convoIcons.search} className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-slate-600" />
            <input
              id="forward-search"
              type="search"
              ref={search}
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              placeholder="Search chats"
              autoComplete="off"
              className="block h-11 w-full rounded-full border border-slate-300 bg-slate-50 pl-9 pr-3 text-sm text-slate-900 outline-none placeholder:text-slate-600 focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
            />
          </div>
        </div>
        <p className="px-5 pb-1 pt-3 text-xs font-semibold uppercase tracking-wide text-slate-600" id="forward-list-label">
          {query.trim() ? 'Chats found' : 'Recent chats'}
        </p>
        <ul className="min-h-0 flex-1 overflow-y-auto px-2" aria-labelledby="forward-list-label" data-testid="forward-choices">
          {shown.length === 0 && <li className="px-3 py-4 text-sm text-slate-600">No chat matches “{query.trim()}”.</li>}
          {shown.map((c) => {
            const on = chosen.includes(c.id);
            const disabled = !on && full;
            const direct = c.kind === 'direct';
            return (
              <li key={c.id}>
                <label
                  data-testid="forward-choice"
                  data-conversation-id={c.id}
                  className={`flex min-h-11 cursor-pointer items-center gap-3 rounded-lg px-3 py-2 hover:bg-slate-50 has-[:focus-visible]:bg-brand-50 ${on ? 'bg-brand-50' : ''} ${disabled ? 'cursor-not-allowed opacity-60' : ''}`}
                >
                  <input
                    type="checkbox"
                    checked={on}
                    disabled={disabled}
                    onChange={() => setChosen((x) => toggleChoice(x, c.id))}
                    className="h-5 w-5 shrink-0 accent-brand-600"
                  />
                  <Avatar name={c.name} seed={direct && c.peer ? c.peer.id : c.id * 7 + 3} size="sm" src={photoOf(c)} />
                  <span className="flex min-w-0 flex-1 items-baseline gap-1.5">
                    <span className="truncate text-sm font-medium text-slate-900">{c.name}</span>
                    {direct && c.peer && <Handle username={c.peer.username} className="text-xs text-slate-600" />}
                    {c.id === from.id && <span className="shrink-0 text-xs text-slate-600">(this chat)</span>}
                  </span>
                </label>
              </li>
            );
          })}
        </ul>
        {error && (
          <p role="alert" className="mx-5 mt-2 text-sm text-red-700" data-testid="forward-error">
            {error}
          </p>
        )}
        <div className="flex items-center justify-between gap-3 border-t border-slate-200 px-5 py-3">
          <span className="text-xs text-slate-600" aria-live="polite">
            {chosen.length === 0 ? `Choose up to ${FORWARD_MAX} chats` : `${chosen.length} of ${FORWARD_MAX} chosen`}
          </span>
          <div className="flex gap-2">
            <Button kind="secondary" onClick={onClose} className="min-h-11">
              Cancel
            </Button>
            <Button onClick={() => void send()} disabled={chosen.length === 0} aria-disabled={busy || undefined} className="min-h-11" data-testid="forward-send">
              <Icon d={convoIcons.forward} className="h-4 w-4" />
              {busy ? 'Forwarding…' : 'Forward'}
            </Button>
          </div>
        </div>
      </div>
    </div>
  );
}
