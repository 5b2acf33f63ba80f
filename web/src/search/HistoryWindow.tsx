// A conversation opened at a message (a search result, /c/:id?at=seq): the
// history around it, read from the server (…/messages?around_seq), with the
// message highlighted and centred; scrolling up loads older pages and down
// newer ones, up to the newest. "Jump to the latest" leaves for the live
// list. It keeps its own pages and leaves the live history alone.
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { historyAround, historyPage } from '../api/search';
import type { Conversation, Message } from '../api/types';
import { chat } from '../app';
import { dayKey, formatDay, nameOf } from '../lib/format';
import { useStore } from '../state/store';
import { MessageBubble } from '../components/MessageBubble';
import { SystemMessage } from '../components/SystemMessage';
import { Spinner } from '../components/ui';

interface Win {
  items: Message[];
  before: boolean;
  after: boolean;
}

export function HistoryWindow({ conv, at, onLatest }: { conv: Conversation; at: number; onLatest: () => void }) {
  const me = useStore(chat, (s) => s.me);
  const [win, setWin] = useState<Win | null>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<'older' | 'newer' | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const keep = useRef<{ height: number; top: number } | null>(null);
  const centred = useRef(0);
  const group = conv.kind === 'group';

  // Load around the target unless it is already in the window.
  useEffect(() => {
    if (win && win.items.some((m) => m.seq === at)) return;
    let live = true;
    historyAround(conv.id, at).then(
      (p) => {
        if (!live) return;
        setError(undefined);
        setWin({ items: p.messages, before: p.has_more_before, after: p.has_more_after });
      },
      (e) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new target reloads
  }, [conv.id, at]);

  // Centre the target once it is shown (again for each new target).
  useLayoutEffect(() => {
    const el = scroller.current?.querySelector<HTMLElement>(`[data-window-seq="${at}"]`);
    if (!el || centred.current === at) return;
    centred.current = at;
    el.scrollIntoView({ block: 'center' });
  }, [win, at]);

  // Older pages go above: keep what is on screen in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && keep.current) {
      el.scrollTop = keep.current.top + (el.scrollHeight - keep.current.height);
      keep.current = null;
    }
  }, [win]);

  const load = useCallback(
    async (dir: 'older' | 'newer') => {
      if (!win || busy || (dir === 'older' ? !win.before : !win.after) || win.items.length === 0) return;
      setBusy(dir);
      try {
        if (dir === 'older') {
          const p = await historyPage(conv.id, { before_seq: win.items[0].seq });
          const el = scroller.current;
          if (el) keep.current = { height: el.scrollHeight, top: el.scrollTop };
          setWin((w) => w && { ...w, items: [...p.messages, ...w.items], before: p.has_more });
        } else {
          const p = await historyPage(conv.id, { after_seq: win.items[win.items.length - 1].seq });
          setWin((w) => w && { ...w, items: [...w.items, ...p.messages], after: p.has_more });
        }
      } catch (e) {
        setError((e as Error).message);
      } finally {
        setBusy(null);
      }
    },
    [win, busy, conv.id],
  );

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    if (el.scrollTop < 150) void load('older');
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 150) void load('newer');
  };

  const names = (id: number) => (id === me?.id ? 'You' : nameOf(win?.items.find((m) => m.sender_id === id)?.sender) || 'Someone');

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div ref={scroller} onScroll={onScroll} className="chat-wallpaper flex min-h-0 flex-1 flex-col overflow-y-auto overflow-x-hidden py-3" data-testid="history-window" tabIndex={0} aria-label="Messages around the search result" role="log">
        <div aria-hidden="true" className="flex-1" />
        {error && (
          <p role="alert" className="py-4 text-center text-sm text-red-700">
            {error}
          </p>
        )}
        {!win && !error && (
          <div className="flex justify-center py-10">
            <Spinner label="Loading messages" />
          </div>
        )}
        {win?.before && <div className="flex justify-center py-2">{busy === 'older' ? <Spinner label="Loading older messages" /> : <button type="button" onClick={() => void load('older')} className="rounded-full bg-surface/90 px-3 py-1 text-xs font-medium text-slate-700 shadow-sm">Load older messages</button>}</div>}
        {win?.items.map((m, i) => {
          const prev = i > 0 ? win.items[i - 1] : null;
          const newDay = !prev || dayKey(prev.created_at) !== dayKey(m.created_at);
          const mine = m.sender_id === me?.id && m.kind !== 'system';
          const target = m.seq === at;
          return (
            <Fragment key={m.seq}>
              {newDay && (
                <div className="my-3 flex justify-center">
                  <span className="rounded-lg bg-surface/95 px-3 py-1 text-xs font-medium text-slate-700 shadow-sm">{formatDay(m.created_at)}</span>
                </div>
              )}
              <div data-window-seq={m.seq} data-testid={target ? 'search-target' : undefined} aria-current={target ? 'true' : undefined} className={target ? 'search-target rounded-lg bg-amber-100 ring-2 ring-amber-300' : undefined}>
                {m.kind === 'system' ? (
                  <SystemMessage message={m} name={names} meId={me?.id} />
                ) : (
                  <MessageBubble message={m} mine={mine} group={group} showSender={newDay || !prev || prev.sender_id !== m.sender_id || prev.kind === 'system'} />
                )}
              </div>
            </Fragment>
          );
        })}
        {win?.after && <div className="flex justify-center py-2">{busy === 'newer' ? <Spinner label="Loading newer messages" /> : <button type="button" onClick={() => void load('newer')} className="rounded-full bg-surface/90 px-3 py-1 text-xs font-medium text-slate-700 shadow-sm">Load newer messages</button>}</div>}
      </div>
      <div className="flex shrink-0 items-center justify-center gap-3 border-t border-slate-200 bg-surface px-3 py-1.5 text-xs text-slate-600">
        <span>Viewing a search result</span>
        <button type="button" onClick={onLatest} className="rounded-full bg-accent px-3 py-1 text-sm font-medium text-white hover:bg-accent-hover" data-testid="jump-latest">
          Jump to the latest
        </button>
      </div>
    </div>
  );
}
