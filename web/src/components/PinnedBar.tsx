// The pinned messages of a conversation, at the top of it: the bar shows one
// at a time; pressing it shows that message and moves on to the next.
import { useEffect, useState } from 'react';
import type { Conversation } from '../api/types';
import { requestJump } from '../state/compose';
import { quoteText } from '../state/convo';
import { lists, loadPins, updateChatList, usePins, watchLists } from '../state/lists';
import { convoIcons } from './convoIcons';
import { useStore } from '../state/store';
import { Icon } from './ui';

export function PinnedBar({ conv }: { conv: Conversation }) {
  const pins = usePins(conv.id);
  const [at, setAt] = useState(0);
  const markedUnread = useStore(lists, (s) => !!s.chatList[conv.id]?.marked_unread);
  useEffect(() => {
    watchLists();
    void loadPins(conv.id);
  }, [conv.id]);
  // Opening a conversation marked unread reads it.
  useEffect(() => {
    if (markedUnread) void updateChatList(conv.id, { marked_unread: false }).catch(() => {});
  }, [conv.id, markedUnread]);
  if (!pins || pins.length === 0) return null;
  const k = at % pins.length;
  const p = pins[k];
  return (
    <button
      type="button"
      data-testid="pinned-bar"
      data-seq={p.seq}
      onClick={() => {
        requestJump(conv.id, p.seq);
        setAt(k + 1);
      }}
      className="flex min-h-12 w-full shrink-0 items-center gap-3 border-b border-slate-200 bg-surface px-4 py-1.5 text-left hover:bg-slate-50"
    >
      <span aria-hidden="true" className="flex h-8 flex-col justify-center gap-0.5">
        {pins.slice(0, 4).map((x, i) => (
          <span key={x.seq} className={`w-0.5 flex-1 rounded ${i === k % 4 ? 'bg-brand-600' : 'bg-slate-300'}`} />
        ))}
      </span>
      <span className="min-w-0 flex-1 text-[13px] leading-snug">
        <span className="block font-semibold text-brand-800">
          Pinned message{pins.length > 1 ? ` ${k + 1} of ${pins.length}` : ''}
        </span>
        <span className="block truncate text-slate-700">{quoteText(p.message)}</span>
      </span>
      <Icon d={convoIcons.pin} className="h-4 w-4 shrink-0 text-slate-600" />
    </button>
  );
}
