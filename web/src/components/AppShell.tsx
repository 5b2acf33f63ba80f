// The signed-in layout: conversations on the left, the open page on the
// right. On a narrow screen only one of the two shows at a time.
import { useEffect, type ReactNode } from 'react';
import { chat, session } from '../app';
import { nameOf } from '../lib/format';
import { Link } from '../lib/router';
import { useStore } from '../state/store';
import { ConnectionBanner } from './ConnectionBanner';
import { ConversationList } from './ConversationList';
import { SearchPanel } from '../search/SearchPanel';
import { Avatar, Icon, icons } from './ui';

export function AppShell({ children, activeId, showList }: { children: ReactNode; activeId: number | null; showList: boolean }) {
  const user = useStore(session, (s) => s.user);
  const unreadTotal = useStore(chat, (s) => Object.values(s.conversations).reduce((n, c) => n + (c.unread ?? 0), 0));
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) Parley` : 'Parley';
  }, [unreadTotal]);
  return (
    <div className="flex h-full flex-col">
      <ConnectionBanner />
      <div className="mx-auto flex min-h-0 w-full max-w-[1600px] flex-1 bg-surface shadow-sm xl:my-0">
        <aside aria-label="Sidebar" className={`min-h-0 w-full shrink-0 flex-col border-r border-slate-200 bg-surface md:flex md:w-80 lg:w-96 ${showList ? 'flex' : 'hidden'}`}>
          <header className="flex h-16 shrink-0 items-center gap-2 border-b border-slate-200 bg-slate-50 px-4">
            <Link to="/settings" className="flex min-w-0 flex-1 items-center gap-2 rounded-lg p-1 hover:bg-slate-100">
              {user && <Avatar name={nameOf(user)} seed={user.id} size="sm" src={user.avatar_url} />}
              <span className="truncate text-sm font-semibold" data-testid="me-name">
                {user ? nameOf(user) : ''}
              </span>
              <span className="sr-only">(profile and settings)</span>
            </Link>
            <Link to="/new/group" className="inline-flex items-center gap-1 rounded-full bg-accent px-3 py-1.5 text-sm font-medium text-white hover:bg-accent-hover" aria-label="New chat">
              <Icon d={icons.plus} className="h-4 w-4" />
              New
            </Link>
            <Link to="/settings" aria-label="Open settings" className="rounded-full p-2 text-slate-600 hover:bg-slate-100">
              <Icon d={icons.settings} />
            </Link>
          </header>
          <SearchPanel>
            <ConversationList activeId={activeId} />
          </SearchPanel>
          <footer className="flex shrink-0 justify-between border-t border-slate-100 px-4 py-2 text-xs text-slate-600">
            <Link to="/new/join" className="hover:text-slate-900 hover:underline">
              Join with a code
            </Link>
            {user?.role === 'admin' && (
              <Link to="/admin" className="hover:text-slate-900 hover:underline">
                Admin
              </Link>
            )}
            <Link to="/about" className="hover:text-slate-900 hover:underline">
              About
            </Link>
          </footer>
        </aside>
        <main className={`min-h-0 min-w-0 flex-1 flex-col bg-slate-50 md:flex ${showList ? 'hidden' : 'flex'}`}>{children}</main>
      </div>
    </div>
  );
}

export function EmptyPane() {
  return (
    <div className="chat-wallpaper flex flex-1 flex-col items-center justify-center gap-3 p-8 text-center">
      <img src="/favicon.svg" alt="" className="h-14 w-14 opacity-80" />
      <h1 className="text-xl font-semibold text-slate-800">Parley</h1>
      <p className="max-w-sm text-sm text-slate-600">Pick a conversation on the left, or start a new one.</p>
      <div className="mt-2 flex gap-2">
        <Link to="/new/group" className="rounded-lg bg-accent px-3 py-2 text-sm font-medium text-white hover:bg-accent-hover">
          New group
        </Link>
        <Link to="/new/join" className="rounded-lg bg-surface px-3 py-2 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50">
          Join a group
        </Link>
        <Link to="/new/direct" className="rounded-lg bg-surface px-3 py-2 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50">
          Message someone
        </Link>
      </div>
    </div>
  );
}
