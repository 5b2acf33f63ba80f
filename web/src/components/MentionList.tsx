// The members offered while an @name is typed in the composer: a listbox
// the composer's textarea controls (aria-activedescendant), used with the
// arrows, Enter or Tab to pick, Esc to dismiss, or a click.
import type { Member } from '../api/types';
import { Avatar } from './ui';

export function MentionList({ id, members, active, onPick, onHover }: { id: string; members: Member[]; active: number; onPick: (m: Member) => void; onHover: (i: number) => void }) {
  return (
    <ul id={id} role="listbox" aria-label="Members to mention" data-testid="mention-list" className="absolute bottom-full left-3 right-3 z-40 mb-1 max-h-64 overflow-y-auto rounded-xl bg-surface py-1 shadow-lg ring-1 ring-slate-200 sm:left-4 sm:right-auto sm:w-80">
      {members.map((m, i) => (
        <li
          key={m.user_id}
          id={`${id}-${m.user_id}`}
          role="option"
          aria-selected={i === active}
          data-testid="mention-option"
          data-username={m.username}
          // Keep the focus in the textarea.
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => onPick(m)}
          onMouseEnter={() => onHover(i)}
          className={`flex min-h-11 cursor-pointer items-center gap-2 px-3 ${i === active ? 'bg-brand-50' : 'hover:bg-slate-50'}`}
        >
          <Avatar name={m.display_name || m.username} seed={m.user_id} size="sm" />
          <span className="min-w-0 flex-1 truncate">
            <span className="text-sm font-medium text-slate-900">{m.display_name || m.username}</span> <span className="text-sm text-slate-600">@{m.username}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}
