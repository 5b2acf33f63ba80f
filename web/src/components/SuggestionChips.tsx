// AI suggestions streamed over SSE (POST, so fetch and a stream reader rather
// than EventSource), shown as chips as they arrive.
import { useCallback, useRef, useState } from 'react';
import { api, ApiError } from '../api/http';
import { readSSE } from '../api/sse';
import type { ProtocolError } from '../api/types';

export interface SuggestionState {
  status: 'idle' | 'streaming' | 'done' | 'error';
  items: string[];
  error?: string;
}

export function useSuggestions(conversationId: number) {
  const [state, setState] = useState<SuggestionState>({ status: 'idle', items: [] });
  const abort = useRef<AbortController | null>(null);

  const reset = useCallback(() => {
    abort.current?.abort();
    abort.current = null;
    setState({ status: 'idle', items: [] });
  }, []);

  const start = useCallback(
    async (draft: string) => {
      abort.current?.abort();
      const ac = new AbortController();
      abort.current = ac;
      setState({ status: 'streaming', items: [] });
      try {
        let res: Response;
        try {
          res = await api.suggestions(conversationId, draft.trim(), ac.signal);
        } catch (e) {
          if (!(e instanceof ApiError) || e.status === 0) throw e;
          setState({ status: 'error', items: [], error: e.generic || !e.message ? 'Suggestions are not available right now.' : e.message });
          return;
        }
        const items: string[] = [];
        let failed: string | undefined;
        await readSSE(res, (e) => {
          if (ac.signal.aborted) return;
          try {
            if (e.event === 'suggestion') {
              const d = JSON.parse(e.data) as { index?: number; text?: string };
              if (typeof d.text === 'string') {
                if (typeof d.index === 'number' && d.index >= 0 && d.index < 20) items[d.index] = d.text;
                else items.push(d.text);
                setState({ status: 'streaming', items: items.filter((x) => x !== undefined) });
              }
            } else if (e.event === 'error') {
              const d = JSON.parse(e.data) as ProtocolError;
              failed = d.message || 'Suggestions failed.';
            }
          } catch {
            /* a malformed event is skipped */
          }
        });
        if (ac.signal.aborted) return;
        const list = items.filter((x) => x !== undefined);
        if (failed && list.length === 0) setState({ status: 'error', items: [], error: failed });
        else setState({ status: 'done', items: list, error: failed });
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        setState({ status: 'error', items: [], error: 'Could not reach the server for suggestions.' });
      }
    },
    [conversationId],
  );

  return { state, start, reset };
}

export function SuggestionChips({ state, onPick, onClose }: { state: SuggestionState; onPick: (text: string) => void; onClose: () => void }) {
  if (state.status === 'idle') return null;
  return (
    <div className="mb-2 flex flex-wrap items-center gap-2" data-testid="suggestions" aria-live="polite" aria-busy={state.status === 'streaming'}>
      <span className="text-xs font-medium text-slate-600">Suggestions:</span>
      {state.items.map((s, i) => (
        <button key={i} type="button" data-testid="suggestion-chip" onClick={() => onPick(s)} className="max-w-full truncate rounded-full bg-surface px-3 py-1 text-sm text-slate-700 shadow-sm ring-1 ring-brand-200 hover:bg-brand-50 hover:ring-brand-400">
          {s}
        </button>
      ))}
      {state.status === 'streaming' && <span className="animate-pulse text-xs text-slate-600">thinking…</span>}
      {state.status === 'error' && <span className="text-xs text-red-700">{state.error}</span>}
      {state.status === 'done' && state.items.length === 0 && <span className="text-xs text-slate-500">No suggestions this time.</span>}
      <button type="button" onClick={onClose} aria-label="Close suggestions" className="ml-auto rounded-full px-2 text-slate-600 hover:bg-slate-200 hover:text-slate-900">
        ×
      </button>
    </div>
  );
}
