// Message info: for my own message, who has it and who has read it, and
// when. Who is known at once from the members' receipt marks; the times come
// from the server (GET …/messages/{seq}/info), fetched again whenever a
// receipt moves a mark past the message while the dialog is open. Groups
// above the large-group size keep no one's marks (the server answers
// listed: false), so it says why instead.
import { type ReactNode, useEffect, useState } from 'react';
import { api } from '../api/http';
import type { Conversation, Member, Message, MessageInfo as Info, MessageInfoMember } from '../api/types';
import { formatFull, formatStamp, nameOf } from '../lib/format';
import { Icon, icons } from './ui';

/** Groups above this many members do not show who read a message (docs/protocol.md, presence and receipts). */
export const LARGE_GROUP = 100;

type Row = Pick<MessageInfoMember, 'user_id' | 'username' | 'display_name' | 'delivered' | 'read' | 'delivered_at' | 'read_at'>;

/** rows are the other members as the marks tell, with the server's times where it has them. */
function rows(members: Member[], meId: number, seq: number, info: Info | null): Row[] {
  const times = new Map((info?.members ?? []).map((m) => [m.user_id, m]));
  return members
    .filter((m) => m.user_id !== meId)
    .map((m) => {
      const t = times.get(m.user_id);
      const read = m.read_seq >= seq || !!t?.read;
      return { user_id: m.user_id, username: m.username, display_name: m.display_name, read, delivered: read || m.delivered_seq >= seq || !!t?.delivered, delivered_at: t?.delivered_at ?? null, read_at: t?.read_at ?? null };
    });
}

function Stamp({ word, iso }: { word: string; iso: string | null }) {
  if (!iso) return <span>{word}</span>;
  return (
    <span>
      {word} <time dateTime={iso} title={formatFull(iso)}>{formatStamp(iso)}</time>
    </span>
  );
}

export function MessageInfo({ conv, message, members, meId, onClose }: { conv: Conversation; message: Message; members: Member[] | undefined; meId: number; onClose: () => void }) {
  const [info, setInfo] = useState<Info | null>(null);
  const [failed, setFailed] = useState(false);
  const large = (conv.kind === 'group' && conv.member_count > LARGE_GROUP) || info?.listed === false;
  const list = rows(members ?? [], meId, message.seq, info);
  // Changes when a receipt moves someone's mark past the message: the times to fetch again.
  const reached = list.map((r) => `${r.user_id}:${r.delivered ? 1 : 0}${r.read ? 1 : 0}`).join(',');
  useEffect(() => {
    let live = true;
    api.messageInfo(conv.id, message.seq).then(
      (i) => {
        if (live) {
          setInfo(i);
          setFailed(false);
        }
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [conv.id, message.seq, reached]);

  const read = list.filter((m) => m.read);
  const delivered = list.filter((m) => !m.read && m.delivered);
  const waiting = list.filter((m) => !m.delivered);
  const section = (title: string, rows: Row[], testid: string, when: (m: Row) => ReactNode) => (
    <section className="mt-3" data-testid={testid}>
      <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-600">
        {title} ({rows.length})
      </h3>
      <ul className="mt-1 text-sm text-slate-800">
        {rows.length === 0 ? (
          <li className="text-slate-600">No one yet</li>
        ) : (
          rows.map((m) => (
            <li key={m.user_id} data-testid="info-member" className="flex items-baseline justify-between gap-3 py-0.5">
              <span className="min-w-0 truncate">{nameOf(m)}</span>
              <span className="shrink-0 text-right text-xs text-slate-600">{when(m)}</span>
            </li>
          ))
        )}
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
        <p className="mt-1 text-right text-xs text-slate-600">
          <Stamp word="Sent" iso={message.created_at} />
        </p>
        {large ? (
          <p className="mt-3 text-sm text-slate-700" data-testid="message-info-large">
            Not shown in groups of more than {info?.large_group ?? LARGE_GROUP} members: their receipts are counted, not listed per person.
          </p>
        ) : (
          <>
            {section('Read by', read, 'info-read', (m) => (
              <span className="flex flex-col items-end">
                <Stamp word="Read" iso={m.read_at} />
                {m.delivered_at && <Stamp word="Delivered" iso={m.delivered_at} />}
              </span>
            ))}
            {section('Delivered to', delivered, 'info-delivered', (m) => <Stamp word="Delivered" iso={m.delivered_at} />)}
            {waiting.length > 0 && section('Not delivered yet', waiting, 'info-waiting', () => null)}
            {failed && (
              <p role="status" className="mt-3 text-xs text-slate-600">
                Times could not be loaded.
              </p>
            )}
          </>
        )}
      </div>
    </div>
  );
}
