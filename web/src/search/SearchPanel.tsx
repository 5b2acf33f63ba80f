// The search box at the top of the sidebar: Ctrl/Cmd+K or "/" focuses it.
// While it holds a query, the sidebar shows what it finds instead of the
// conversation list: conversations and people by name, and messages newest
// first with the match highlighted, "More results", and filters.
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError } from '../api/http';
import { search, type SearchHit, type SearchParams, type SearchResult } from '../api/search';
import { chat } from '../app';
import { formatListTime, nameOf } from '../lib/format';
import { Link, navigate } from '../lib/router';
import { conversationsByActivity } from '../state/chat';
import { useStore } from '../state/store';
import { Icon, Spinner } from '../components/ui';
import { Highlighted } from './Highlighted';

const searchIcon = 'M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16zM21 21l-4.35-4.35';
const filterIcon = 'M22 3H2l8 9.46V19l4 2v-8.54L22 3z';

interface Filters {
  conversation_id: number;
  from: string; // a username, as typed
  after: string;
  before: string;
  has_attachment: boolean;
}

const noFilters: Filters = { conversation_id: 0, from: '', after: '', before: '', has_attachment: false };

/** useSearchShortcut focuses el on Ctrl/Cmd+K anywhere, or "/" outside text fields. */
export function useSearchShortcut(focus: () => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
      if ((e.key === 'k' || e.key === 'K') && (e.ctrlKey || e.metaKey) && !e.altKey) {
        e.preventDefault();
        focus();
      } else if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [focus]);
}

export function SearchPanel({ children }: { children: ReactNode }) {
  const [query, setQuery] = useState('');
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [showFilters, setShowFilters] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const focus = useMemo(() => () => input.current?.focus(), []);
  useSearchShortcut(focus);
  const filtered = JSON.stringify(filters) !== JSON.stringify(noFilters);
  const active = query.trim() !== '';

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="shrink-0 border-b border-slate-200 px-3 py-2" role="search">
        <div className="flex items-center gap-1">
          <label className="relative flex min-w-0 flex-1 items-center">
            <span className="sr-only">Search messages, conversations and people</span>
            <Icon d={searchIcon} className="pointer-events-none absolute left-2.5 h-4 w-4 text-slate-500" />
            <input
              ref={input}
              type="search"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  setQuery('');
                  input.current?.blur();
                }
              }}
              maxLength={200}
              placeholder="Search (Ctrl+K)"
              data-testid="search-input"
              className="w-full rounded-full bg-slate-100 py-1.5 pl-8 pr-3 text-sm text-slate-900 placeholder:text-slate-500 focus:bg-surface focus:outline-none focus:ring-2 focus:ring-brand-500"
            />
          </label>
          <button
            type="button"
            onClick={() => setShowFilters((v) => !v)}
            aria-expanded={showFilters}
            aria-label="Search filters"
            className={`relative rounded-full p-2 hover:bg-slate-100 ${showFilters || filtered ? 'text-brand-700' : 'text-slate-600'}`}
          >
            <Icon d={filterIcon} className="h-4 w-4" />
            {filtered && <span className="absolute right-1 top-1 h-2 w-2 rounded-full bg-accent" aria-hidden="true" />}
          </button>
        </div>
        {showFilters && <FilterForm filters={filters} onChange={setFilters} />}
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto">{active ? <SearchResults query={query.trim()} filters={filters} /> : children}</div>
    </div>
  );
}

function FilterForm({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const convs = useStore(chat, (s) => s.conversations);
  const list = useMemo(() => conversationsByActivity(convs), [convs]);
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => onChange({ ...filters, [k]: v });
  const field = 'mt-0.5 w-full rounded-md border border-slate-300 bg-surface px-2 py-1 text-sm text-slate-900';
  return (
    <div className="mt-2 grid grid-cols-2 gap-2 text-xs text-slate-700" data-testid="search-filters">
      <label className="col-span-2">
        In conversation
        <select className={field} value={filters.conversation_id} onChange={(e) => set('conversation_id', Number(e.target.value))} data-testid="filter-conversation">
          <option value={0}>All conversations</option>
          {list.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label className="col-span-2">
        From (username)
        <input className={field} value={filters.from} onChange={(e) => set('from', e.target.value)} placeholder="anyone" data-testid="filter-from" />
      </label>
      <label>
        After
        <input type="date" className={field} value={filters.after} onChange={(e) => set('after', e.target.value)} data-testid="filter-after" />
      </label>
      <label>
        Before
        <input type="date" className={field} value={filters.before} onChange={(e) => set('before', e.target.value)} data-testid="filter-before" />
      </label>
      <label className="col-span-2 flex items-center gap-2">
        <input type="checkbox" checked={filters.has_attachment} onChange={(e) => set('has_attachment', e.target.checked)} />
        Has attachment
      </label>
      <button type="button" className="col-span-2 justify-self-start text-xs font-medium text-brand-700 underline" onClick={() => onChange(noFilters)}>
        Clear filters
      </button>
    </div>
  );
}

function SearchResults({ query, filters }: { query: string; filters: Filters }) {
  const [result, setResult] = useState<SearchResult | null>(null);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [more, setMore] = useState(false);
  const params = useRef<SearchParams | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    const timer = setTimeout(async () => {
      setLoading(true);
      setError(undefined);
      try {
        const p: SearchParams = { q: query, after: filters.after || undefined, has_attachment: filters.has_attachment };
        if (filters.conversation_id) p.conversation_id = filters.conversation_id;
        if (filters.before) {
          // "Before" a day includes that day.
          const d = new Date(filters.before + 'T00:00:00Z');
          d.setUTCDate(d.getUTCDate() + 1);
          p.before = d.toISOString().slice(0, 10);
        }
        if (filters.from.trim()) {
          try {
            p.from = (await api.user(filters.from.trim().replace(/^@/, ''))).user.id;
          } catch (e) {
            if (e instanceof ApiError && e.status === 404) throw new Error(`Nobody is called ${filters.from.trim()}.`, { cause: e });
            throw e;
          }
        }
        params.current = p;
        const r = await search(p, ctl.signal);
        if (!ctl.signal.aborted) setResult(r);
      } catch (e) {
        if (!ctl.signal.aborted) {
          setResult(null);
          setError((e as Error).message);
        }
      } finally {
        if (!ctl.signal.aborted) setLoading(false);
      }
    }, 250);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [query, filters]);

  const loadMore = async () => {
    if (!result?.next_cursor || !params.current) return;
    setMore(true);
    try {
      const r = await search({ ...params.current, cursor: result.next_cursor });
      setResult({ ...result, messages: [...result.messages, ...r.messages], next_cursor: r.next_cursor });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setMore(false);
    }
  };

  if (!result) {
    return (
      <div className="px-4 py-6 text-sm text-slate-600" aria-live="polite">
        {error ? <p role="alert">{error}</p> : loading ? <Spinner label="Searching" /> : null}
      </div>
    );
  }
  const nothing = result.messages.length === 0 && result.conversations.length === 0 && result.people.length === 0;
  return (
    <div data-testid="search-results" aria-busy={loading}>
      {error && (
        <p role="alert" className="px-4 py-2 text-sm text-red-700">
          {error}
        </p>
      )}
      {nothing && <p className="px-4 py-6 text-sm text-slate-600">Nothing found for “{query}”.</p>}
      {result.conversations.length > 0 && (
        <Section title="Conversations">
          {result.conversations.map((c) => (
            <li key={c.id}>
              <Link to={`/c/${c.id}`} className="block px-4 py-2 text-sm font-medium text-slate-900 hover:bg-slate-50" data-testid="search-conversation">
                {c.name}
              </Link>
            </li>
          ))}
        </Section>
      )}
      {result.people.length > 0 && (
        <Section title="People">
          {result.people.map((u) => (
            <li key={u.id}>
              <button
                type="button"
                className="block w-full px-4 py-2 text-left text-sm hover:bg-slate-50"
                data-testid="search-person"
                onClick={async () => {
                  try {
                    const { conversation } = await api.direct(u.username);
                    navigate(`/c/${conversation.id}`);
                  } catch (e) {
                    setError((e as Error).message);
                  }
                }}
              >
                <span className="font-medium text-slate-900">{nameOf(u)}</span> <span className="text-slate-600">@{u.username}</span>
              </button>
            </li>
          ))}
        </Section>
      )}
      {result.messages.length > 0 && (
        <Section title="Messages">
          {result.messages.map((h) => (
            <li key={h.message.id}>
              <HitItem hit={h} />
            </li>
          ))}
        </Section>
      )}
      {result.next_cursor && (
        <div className="flex justify-center py-3">
          {more ? (
            <Spinner label="Loading more results" />
          ) : (
            <button type="button" onClick={() => void loadMore()} className="rounded-full bg-slate-100 px-3 py-1 text-xs font-medium text-slate-700 hover:bg-slate-200" data-testid="search-more">
              More results
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title}>
      <h2 className="bg-slate-50 px-4 py-1 text-xs font-semibold uppercase tracking-wide text-slate-600">{title}</h2>
      <ul className="divide-y divide-slate-100">{children}</ul>
    </section>
  );
}

function HitItem({ hit }: { hit: SearchHit }) {
  const me = useStore(chat, (s) => s.me);
  const m = hit.message;
  const who = m.sender_id === me?.id ? 'You' : nameOf(m.sender);
  return (
    <Link to={`/c/${m.conversation_id}?at=${m.seq}`} className="block px-4 py-2 hover:bg-slate-50 focus-visible:bg-brand-50" data-testid="search-hit" data-seq={m.seq}>
      <span className="flex items-baseline justify-between gap-2 text-xs">
        <span className="min-w-0 truncate font-semibold text-slate-900">{hit.conversation.name}</span>
        <time className="shrink-0 text-slate-600" dateTime={m.created_at}>
          {formatListTime(m.created_at)}
        </time>
      </span>
      <span className="mt-0.5 block text-sm text-slate-700">
        <span className="font-medium">{who}: </span>
        <span className="break-words" data-testid="search-snippet">
          <Highlighted text={hit.snippet} matches={hit.matches} />
        </span>
      </span>
    </Link>
  );
}
