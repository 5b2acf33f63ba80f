// Message info: for my own message, who has it and who has read it, from
// the members' receipt marks. Groups above the large-group size keep no one's
// marks on the client (a sync lists only me there), so it says why instead.
import type { Conversation, Member, Message } from '../api/types';
import { nameOf } from '../lib/format';
import { Icon, icons } from './ui';

/** Groups above this many members do not show who read a message (docs/protocol.md, presence and receipts). */
export const LARGE_GROUP = 100;

export function MessageInfo({ conv, message, members, meId, onClose }: { conv: Conversation; message: Message; members: Member[] | undefined; meId: number; onClose: () => void }) {
  const large = conv.kind === 'group' && conv.member_count > LARGE_GROUP;
  const others = (members ?? []).filter((m) => m.user_id !== meId);
  const read = others.filter((m) => m.read_seq >= message.seq);
  const delivered = others.filter((m) => m.read_seq < message.seq && m.delivered_seq >= message.seq);
  const waiting = others.filter((m) => m.delivered_seq < message.seq && m.read_seq < message.seq);
  const section = (title: string, list: Member[], testid: string) => (
    <section className="mt-3" data-testid={testid}>
      <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-600">
        {title} ({list.length})
      </h3>
      <ul className="mt-1 text-sm text-slate-800">
        {list.length === 0 ? <li className="text-slate-600">No one yet</li> : list.map((m) => <li key={m.user_id}>{nameOf(m)}</li>)}
      </ul>
    </section>
  );
  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-black/40 p-4" onClick={onClose}>
      <div role="dialog" aria-modal="true" aria-label="Message info" data-testid="message-info" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()} className="max-h-[80vh] w-[min(24rem,100%)] overflow-y-auto rounded-2xl bg-surface p-5 shadow-xl">
        <div className="flex items-center justify-between gap-2">
          <h2 className="font-semibold text-slate-900">Message info</h2>
          <button type="button" autoFocus onClick={onClose} aria-label="Close" className="inline-flex h-10 w-10 items-center justify-center rounded-full text-slate-600 hover:bg-slate-100">
            <Icon d={icons.close} className="h-4 w-4" />
          </button>
        </div>
        <p className="mt-1 line-clamp-3 rounded-lg bg-slate-100 px-3 py-2 text-sm text-slate-800 wrap-anywhere">{message.text || 'Attachment'}</p>
        {large ? (
          <p className="mt-3 text-sm text-slate-700" data-testid="message-info-large">
            Not shown in groups of more than {LARGE_GROUP} members: their receipts are counted, not listed per person.
          </p>
        ) : (
          <>
            {section('Read by', read, 'info-read')}
            {section('Delivered to', delivered, 'info-delivered')}
            {waiting.length > 0 && section('Not delivered yet', waiting, 'info-waiting')}
          </>
        )}
      </div>
    </div>
  );
}
