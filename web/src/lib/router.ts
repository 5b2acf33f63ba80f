// A small client-side router over the History API: enough for Parley's
// handful of pages, without a dependency.
import { createElement, type AnchorHTMLAttributes, type MouseEvent } from 'react';
import { createStore, useStore } from '../state/store';

export interface Location {
  path: string;
  search: string;
}

const read = (): Location => ({ path: window.location.pathname, search: window.location.search });
export const locationStore = createStore<Location>(read());

window.addEventListener('popstate', () => locationStore.set(() => read()));

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (to === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  locationStore.set(() => read());
  window.scrollTo?.(0, 0);
}

export function useLocation(): Location {
  return useStore(locationStore, (l) => l);
}

/** matchPath matches "/c/:id" style patterns; params are strings. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

/** safeNext accepts only same-site paths as a post-login destination. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login') || next.startsWith('/signup')) return '/';
  return next;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; replace?: boolean };

export function Link({ to, replace, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to, { replace });
  };
  return createElement('a', { href: to, onClick: handle, ...rest });
}
