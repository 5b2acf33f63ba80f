// Links in message text: http(s) URLs and e-mail addresses become links;
// nothing else does (no javascript:, data: or other schemes), and a link's
// trailing punctuation stays text ("see https://x.org." links x.org).

export type Segment = { text: string; href?: undefined } | { text: string; href: string };

// A URL runs to the next space or angle bracket; an address is the common
// local@domain.tld shape.
const pattern = /\bhttps?:\/\/[^\s<>"]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/gi;

/** trimURL leaves trailing punctuation out of a URL, and a closing bracket it does not open. */
function trimURL(url: string): string {
  let u = url;
  for (;;) {
    const last = u[u.length - 1];
    if (/[.,!?;:'"*_~]/.test(last)) u = u.slice(0, -1);
    else if (last === ')' && count(u, '(') < count(u, ')')) u = u.slice(0, -1);
    else if (last === ']' && count(u, '[') < count(u, ']')) u = u.slice(0, -1);
    else return u;
  }
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** safeHref is the link for a match, or null when it is not an http(s) URL or an address. */
function safeHref(text: string): string | null {
  if (/^https?:\/\//i.test(text)) {
    try {
      const u = new URL(text);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch {
      return null;
    }
  }
  return text.includes('@') && !text.includes(':') ? `mailto:${text}` : null;
}

/** linkify splits text into plain runs and links, in order; joined, the runs give the text back. */
export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    let found = m[0];
    const start = m.index;
    if (/^https?:/i.test(found)) found = trimURL(found);
    else if (start > 0 && /[/:]/.test(text[start - 1])) continue; // part of a URL's path, not an address
    const href = safeHref(found);
    if (!href || found.length === 0) continue;
    if (start > at) out.push({ text: text.slice(at, start) });
    out.push({ text: found, href });
    at = start + found.length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}
