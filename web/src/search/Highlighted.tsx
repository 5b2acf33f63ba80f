import type { ReactNode } from 'react';

// A search snippet with its matches marked. Offsets count code points
// (docs/protocol.md, "Search"), so the text is cut as Array.from does.
export function Highlighted({ text, matches }: { text: string; matches: [number, number][] }) {
  const chars = Array.from(text);
  const parts: ReactNode[] = [];
  let at = 0;
  matches.forEach(([start, end], i) => {
    if (start < at || end > chars.length || start >= end) return;
    if (start > at) parts.push(chars.slice(at, start).join(''));
    parts.push(
      <mark key={i} className="rounded-sm bg-amber-200 px-0.5 text-slate-900">
        {chars.slice(start, end).join('')}
      </mark>,
    );
    at = end;
  });
  if (at < chars.length) parts.push(chars.slice(at).join(''));
  return <>{parts}</>;
}
