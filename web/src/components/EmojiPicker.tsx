// The emoji picker of the composer: search by name, or browse by group. It
// opens above the composer (the closest positioned ancestor).
// The emoji data is its own chunk served by Parley (no CDN; works offline),
// loaded the first time the picker opens. Emoji are drawn by the system's
// font. Picking keeps the picker open; Escape or a click outside closes it.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { loadEmoji, searchEmoji, type Emoji, type EmojiGroup } from '../emoji/search';
import { Icon, icons } from './ui';

export function EmojiButton({ onPick, onClose }: { onPick: (emoji: string) => void; onClose?: () => void }) {
  const [open, setOpen] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const close = () => {
    setOpen(false);
    onClose?.();
  };
  useEffect(() => {
    if (!open) return;
    const away = (e: PointerEvent) => {
      if (wrap.current && !wrap.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);
  return (
    <div ref={wrap} className="shrink-0 self-end">
      <button
        type="button"
        aria-label="Emoji"
        aria-haspopup="dialog"
        aria-expanded={open}
        onClick={() => (open ? close() : setOpen(true))}
        className={`mb-0.5 inline-flex h-10 w-10 items-center justify-center rounded-full text-slate-600 hover:bg-slate-200 hover:text-slate-900 ${open ? 'bg-slate-200 text-slate-900' : ''}`}
      >
        <Icon d={icons.smile} className="h-6 w-6" />
      </button>
      {open && <EmojiPicker onPick={onPick} onClose={close} />}
    </div>
  );
}

/** EmojiPicker is the picker itself; by default it sits above its positioned ancestor (className places it elsewhere). */
export function EmojiPicker({ onPick, onClose, className = 'absolute bottom-full left-2 z-40 mb-1 w-[min(22rem,calc(100%-1rem))]' }: { onPick: (emoji: string) => void; onClose: () => void; className?: string }) {
  const [groups, setGroups] = useState<EmojiGroup[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState('');
  const search = useRef<HTMLInputElement>(null);
  const grid = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let live = true;
    loadEmoji().then(
      (g) => live && setGroups(g),
      () => live && setFailed(true),
    );
    search.current?.focus();
    return () => {
      live = false;
    };
  }, []);

  const results = useMemo(() => (groups && query.trim() ? searchEmoji(groups, query) : null), [groups, query]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    }
  };
  const onSearchKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      if (results && results.length > 0) onPick(results[0][0]);
    }
  };
  const jump = (key: string) => grid.current?.querySelector(`[data-group="${key}"]`)?.scrollIntoView({ block: 'start' });

  return (
    <div
      role="dialog"
      aria-label="Emoji"
      data-testid="emoji-picker"
      onKeyDown={onKeyDown}
      className={`flex h-80 flex-col overflow-hidden rounded-2xl bg-surface shadow-xl ring-1 ring-slate-200 ${className}`}
    >
      <div className="p-2">
        <label htmlFor="emoji-search" className="sr-only">
          Search emoji
        </label>
        <input
          id="emoji-search"
          ref={search}
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={onSearchKey}
          placeholder="Search emoji"
          autoComplete="off"
          className="block w-full rounded-lg border border-slate-300 bg-surface px-3 py-1.5 text-sm text-slate-900 outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
        />
      </div>
      {groups && !results && (
        <nav aria-label="Emoji groups" className="flex shrink-0 justify-between border-b border-slate-200 px-1">
          {groups.map((g) => (
            <button key={g.key} type="button" onClick={() => jump(g.key)} aria-label={g.name} title={g.name} className="flex h-9 w-9 items-center justify-center rounded-md text-lg hover:bg-slate-100">
              {g.emoji[0]?.[0]}
            </button>
          ))}
        </nav>
      )}
      <div ref={grid} className="min-h-0 flex-1 overflow-y-auto px-2 pb-2" data-testid="emoji-grid">
        {failed && <p className="p-4 text-center text-sm text-red-700">The emoji could not be loaded.</p>}
        {!groups && !failed && <p className="p-4 text-center text-sm text-slate-600">Loading emoji…</p>}
        {results && (results.length === 0 ? <p className="p-4 text-center text-sm text-slate-600">No emoji found.</p> : <EmojiGrid emoji={results} onPick={onPick} />)}
        {groups &&
          !results &&
          groups.map((g) => (
            <section key={g.key} data-group={g.key} aria-label={g.name}>
              <h3 className="sticky top-0 bg-surface py-1 text-xs font-semibold text-slate-600">{g.name}</h3>
              <EmojiGrid emoji={g.emoji} onPick={onPick} />
            </section>
          ))}
      </div>
    </div>
  );
}

function EmojiGrid({ emoji, onPick }: { emoji: Emoji[]; onPick: (emoji: string) => void }) {
  return (
    <div className="grid grid-cols-[repeat(auto-fill,minmax(2.5rem,1fr))]">
      {emoji.map(([char, label]) => (
        <button key={char} type="button" onClick={() => onPick(char)} aria-label={label} title={label} data-testid="emoji" className="flex h-10 items-center justify-center rounded-md text-2xl hover:bg-slate-100 focus:bg-slate-100 focus:outline-none">
          {char}
        </button>
      ))}
    </div>
  );
}
