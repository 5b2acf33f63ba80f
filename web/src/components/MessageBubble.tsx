// One message: its text (always as text), sender, time, and for my own
// messages the sent / delivered / read mark and the edit / delete actions.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Message } from '../api/types';
import { formatFull, formatTime, nameOf } from '../lib/format';
import type { MessageMark, OutboxItem } from '../state/chat';
import { Icon, icons } from './ui';

function Mark({ mark, group }: { mark: MessageMark; group: boolean }) {
  if (group && mark.readBy > 0 && mark.status !== 'read') {
    return (
      <span data-testid="message-mark" data-status="read-by" className="text-sky-600" title={`Read by ${mark.readBy} of ${mark.others}`}>
        Read by {mark.readBy}
      </span>
    );
  }
  const label = mark.status === 'read' ? (group ? 'Read by everyone' : 'Read') : mark.status === 'delivered' ? 'Delivered' : 'Sent';
  return (
    <span data-testid="message-mark" data-status={mark.status} title={label} className={`inline-flex items-center ${mark.status === 'read' ? 'text-sky-600' : 'text-slate-400'}`}>
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
}

export function MessageBubble({ message, mine, group, showSender, mark, onEdit, onDelete }: MessageBubbleProps) {
  const deleted = !!message.deleted_at;
  const [editing, setEditing] = useState(false);
  const [menu, setMenu] = useState<'closed' | 'open' | 'confirm'>('closed');
  const [error, setError] = useState<string>();
  const canAct = mine && !deleted && message.kind === 'text';

  return (
    <div className={`group flex px-3 sm:px-6 ${mine ? 'justify-end' : 'justify-start'} ${showSender ? 'mt-2' : 'mt-0.5'}`} data-testid="message" data-seq={message.seq} data-mine={mine ? 'true' : 'false'}>
      <div className={`relative max-w-[85%] sm:max-w-[70%] ${mine ? 'items-end' : 'items-start'} flex flex-col`}>
        <div className={`rounded-2xl px-3 py-1.5 shadow-sm ${mine ? 'rounded-br-md bg-[#d9fdd3]' : 'rounded-bl-md bg-white'}`}>
          {showSender && !mine && group && <div className="mb-0.5 text-xs font-semibold text-brand-700">{nameOf(message.sender)}</div>}
          {editing && onEdit ? (
            <EditBox
              initial={message.text}
              onCancel={() => setEditing(false)}
              onSave={async (t) => {
                try {
                  await onEdit(t);
                  setEditing(false);
                  setError(undefined);
                } catch (e) {
                  setError((e as Error).message);
                }
              }}
            />
          ) : deleted ? (
            <p className="text-sm italic text-slate-400" data-testid="message-text">
              This message was deleted
            </p>
          ) : (
            <p className="whitespace-pre-wrap break-words text-[15px] leading-snug text-slate-900" data-testid="message-text">
              {message.text}
            </p>
          )}
          <div className="mt-0.5 flex items-center justify-end gap-1.5 text-[11px] text-slate-500">
            {message.edited_at && !deleted && <span>edited</span>}
            <time dateTime={message.created_at} title={formatFull(message.created_at)}>
              {formatTime(message.created_at)}
            </time>
            {mine && mark && !deleted && <Mark mark={mark} group={group} />}
          </div>
        </div>
        {error && (
          <p role="alert" className="mt-1 text-xs text-red-600">
            {error}
          </p>
        )}
        {canAct && !editing && (
          <div className={`absolute top-1 ${mine ? '-left-8' : '-right-8'}`}>
            <button
              type="button"
              aria-label="Message actions"
              aria-expanded={menu !== 'closed'}
              onClick={() => setMenu(menu === 'closed' ? 'open' : 'closed')}
              className="rounded-full p-1 text-slate-400 opacity-60 hover:bg-white hover:text-slate-700 focus-visible:opacity-100 group-hover:opacity-100"
            >
              <Icon d={icons.more} className="h-4 w-4" />
            </button>
            {menu !== 'closed' && (
              <div role="menu" className={`absolute z-20 mt-1 w-44 overflow-hidden rounded-lg bg-white py-1 text-sm shadow-lg ring-1 ring-slate-200 ${mine ? 'right-0' : 'left-0'}`} onKeyDown={(e) => e.key === 'Escape' && setMenu('closed')}>
                {menu === 'open' ? (
                  <>
                    <button type="button" role="menuitem" autoFocus className="block w-full px-3 py-2 text-left hover:bg-slate-50 focus:bg-slate-50 focus:outline-none" onClick={() => (setMenu('closed'), setEditing(true))}>
                      Edit
                    </button>
                    <button type="button" role="menuitem" className="block w-full px-3 py-2 text-left text-red-600 hover:bg-red-50 focus:bg-red-50 focus:outline-none" onClick={() => setMenu('confirm')}>
                      Delete
                    </button>
                  </>
                ) : (
                  <>
                    <p className="px-3 py-2 text-xs text-slate-500">Delete this message for everyone?</p>
                    <button
                      type="button"
                      role="menuitem"
                      autoFocus
                      className="block w-full px-3 py-2 text-left font-medium text-red-600 hover:bg-red-50 focus:bg-red-50 focus:outline-none"
                      onClick={async () => {
                        setMenu('closed');
                        try {
                          await onDelete?.();
                        } catch (e) {
                          setError((e as Error).message);
                        }
                      }}
                    >
                      Delete for everyone
                    </button>
                    <button type="button" role="menuitem" className="block w-full px-3 py-2 text-left hover:bg-slate-50 focus:bg-slate-50 focus:outline-none" onClick={() => setMenu('closed')}>
                      Cancel
                    </button>
                  </>
                )}
              </div>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

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
  const save = () => {
    const t = text.trim();
    if (!t || t === initial) return onCancel();
    void onSave(t);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      save();
    } else if (e.key === 'Escape') onCancel();
  };
  return (
    <div className="min-w-56">
      <label className="sr-only" htmlFor="edit-message">
        Edit message
      </label>
      <textarea id="edit-message" ref={ref} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey} rows={Math.min(6, text.split('\n').length)} className="w-full resize-none rounded-md border border-slate-300 bg-white px-2 py-1 text-[15px] outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-100" />
      <div className="mt-1 flex justify-end gap-2 text-xs">
        <button type="button" onClick={onCancel} className="rounded px-2 py-1 text-slate-600 hover:bg-slate-100">
          Cancel
        </button>
        <button type="button" onClick={save} className="rounded bg-brand-600 px-2 py-1 font-medium text-white hover:bg-brand-700">
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
        <div className={`rounded-2xl rounded-br-md px-3 py-1.5 shadow-sm ${item.error ? 'bg-red-50 ring-1 ring-red-200' : 'bg-[#d9fdd3]/70'}`}>
          <p className="whitespace-pre-wrap break-words text-[15px] leading-snug text-slate-900" data-testid="message-text">
            {item.text}
          </p>
          <div className="mt-0.5 flex items-center justify-end gap-1 text-[11px] text-slate-500">
            {item.error ? (
              <span className="text-red-600">Not sent</span>
            ) : (
              <span className="inline-flex items-center gap-1" data-testid="message-mark" data-status="pending">
                <Icon d={icons.clock} className="h-3 w-3" />
                Waiting to send
              </span>
            )}
          </div>
        </div>
        {item.error && (
          <p className="mt-1 flex flex-wrap items-center justify-end gap-2 text-xs text-red-600" role="alert">
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
