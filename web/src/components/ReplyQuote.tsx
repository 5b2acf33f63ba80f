// A reply's quote of the message it answers: in the bubble (a button that
// jumps to the original) and above the composer while writing the answer.
import type { Message, ReplyPreview } from '../api/types';
import { nameOf } from '../lib/format';
import { previewOf, quoteText } from '../state/convo';
import { convoIcons } from './convoIcons';
import { Icon, icons } from './ui';

function senderName(p: ReplyPreview, meId?: number): string {
  if (p.sender && p.sender.id === meId) return 'You';
  return p.sender ? nameOf(p.sender) : 'Someone';
}

/** ReplyQuote is the quoted message inside a reply's bubble; pressing it jumps to the original. */
export function ReplyQuote({ preview, meId, mine, onJump }: { preview: ReplyPreview; meId?: number; mine: boolean; onJump?: () => void }) {
  const text = quoteText(preview);
  return (
    <button
      type="button"
      onClick={onJump}
      data-testid="reply-quote"
      title="Show the message"
      className={`mb-1 flex w-full min-w-0 flex-col rounded-lg border-l-4 border-brand-600 px-2 py-1 text-left text-[13px] leading-snug ${mine ? 'bg-black/5 dark:bg-white/10' : 'bg-slate-100'} hover:brightness-95`}
    >
      <span className="truncate font-semibold text-brand-800">
        <span className="sr-only">Answers </span>
        {senderName(preview, meId)}
      </span>
      <span className={`line-clamp-2 text-slate-700 wrap-anywhere ${preview.deleted ? 'italic' : ''}`}>{text}</span>
    </button>
  );
}

/** ReplyBar shows, above the composer, the message being answered, with a way out. */
export function ReplyBar({ message, meId, onCancel }: { message: Message; meId?: number; onCancel: () => void }) {
  const p = previewOf(message);
  return (
    <div className="mb-2 flex items-center gap-2 rounded-xl bg-surface py-1 pl-3 pr-1 ring-1 ring-slate-200" data-testid="reply-bar">
      <Icon d={convoIcons.reply} className="h-4 w-4 shrink-0 text-brand-700" />
      <div className="min-w-0 flex-1 border-l-4 border-brand-600 pl-2 text-[13px] leading-snug">
        <div className="truncate font-semibold text-brand-700">Reply to {senderName(p, meId)}</div>
        <div className="truncate text-slate-700">{quoteText(p)}</div>
      </div>
      <button type="button" onClick={onCancel} aria-label="Cancel reply" className="inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-full text-slate-600 hover:bg-slate-100">
        <Icon d={icons.close} className="h-4 w-4" />
      </button>
    </div>
  );
}
