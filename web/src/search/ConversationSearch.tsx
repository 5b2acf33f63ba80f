// Search inside the open conversation: a bar under its header with the
// number of matches and previous (older) / next (newer) buttons; each
// match opens the conversation at it (?at=seq: MessageList jumps there).
import { useEffect, useRef, useState } from 'react';
import { search, type SearchHit } from '../api/search';
import { navigate } from '../lib/router';
import { Icon, icons } from '../components/ui';

export function ConversationSearch({ conversationId, onClose }: { conversationId: number; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [cursor, setCursor] = useState<string>();
  const [index, setIndex] = useState(0);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);

  const show = (h: SearchHit) => navigate(`/c/${conversationId}?at=${h.message.seq}`, { replace: true });

  const run = async () => {
    const q = query.trim();
    if (!q) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await search({ q, conversation_id: conversationId, limit: 50 });
      setHits(r.messages);
      setCursor(r.next_cursor);
      setIndex(0);
      if (r.messages.length > 0) show(r.messages[0]);
    } catch (e) {
      setHits(null);
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  // Older: further down the list of hits (newest first), fetching more when needed.
  const older = async () => {
    if (!hits) return;
    if (index + 1 < hits.length) {
      setIndex(index + 1);
      show(hits[index + 1]);
      return;
    }
    if (!cursor) return;
    setBusy(true);
    try {
      const r = await search({ q: query.trim(), conversation_id: conversationId, limit: 50, cursor });
      const all = [...hits, ...r.messages];
      setHits(all);
      setCursor(r.next_cursor);
      if (all.length > index + 1) {
        setIndex(index + 1);
        show(all[index + 1]);
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const newer = () => {
    if (!hits || index === 0) return;
    setIndex(index - 1);
    show(hits[index - 1]);
  };

  const count = hits ? `${hits.length === 0 ? 0 : index + 1} of ${hits.length}${cursor ? '+' : ''}` : '';
  return (
    <div className="flex shrink-0 items-center gap-1 border-b border-slate-200 bg-surface px-2 py-1.5 sm:px-4" role="search" data-testid="conversation-search">
      <form
        className="flex min-w-0 flex-1 items-center gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label className="min-w-0 flex-1">
          <span className="sr-only">Search in this conversation</span>
          <input
            ref={input}
            type="search"
            value={query}
            maxLength={200}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') onClose();
              else if (e.key === 'Enter' && e.shiftKey && hits) {
                e.preventDefault();
                newer();
              } else if (e.key === 'Enter' && hits && query.trim() && !busy) {
                // Enter again goes to the next older match.
                e.preventDefault();
                void older();
              }
            }}
            onInput={() => setHits(null)}
            placeholder="Search in this conversation"
            data-testid="conversation-search-input"
            className="w-full rounded-full bg-slate-100 px-3 py-1.5 text-sm text-slate-900 placeholder:text-slate-500 focus:bg-surface focus:outline-none focus:ring-2 focus:ring-brand-500"
          />
        </label>
      </form>
      <span className="min-w-[4.5rem] text-center text-xs text-slate-600" aria-live="polite" data-testid="conversation-search-count">
        {error ? <span className="text-red-700">{error}</span> : hits && hits.length === 0 ? 'No matches' : count}
      </span>
      <button type="button" onClick={() => void older()} disabled={!hits || (index + 1 >= hits.length && !cursor) || busy} aria-label="Previous match (older)" className="rounded-full p-2 text-slate-600 hover:bg-slate-100 disabled:opacity-40" data-testid="search-prev">
        <Icon d="M18 15l-6-6-6 6" />
      </button>
      <button type="button" onClick={newer} disabled={!hits || index === 0} aria-label="Next match (newer)" className="rounded-full p-2 text-slate-600 hover:bg-slate-100 disabled:opacity-40" data-testid="search-next">
        <Icon d="M6 9l6 6 6-6" />
      </button>
      <button type="button" onClick={onClose} aria-label="Close search" className="rounded-full p-2 text-slate-600 hover:bg-slate-100">
        <Icon d={icons.close} />
      </button>
    </div>
  );
}
