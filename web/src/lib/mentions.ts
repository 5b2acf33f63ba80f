// @mentions in the composer and in bubbles. The server decides what a stored
// message mentions (its `mentions`: member ids); these functions find the
// `@name` being typed, offer members for it, put `@username` in, and find the
// mentions in a text to highlight them, by the server's rule (an `@` at the
// start or after a character that cannot be part of a username or an e-mail
// address; "thanks @alice." mentions alice).

/** The characters of a username (parley.isNameByte). */
const NAME = /[A-Za-z0-9_.-]/;
export const USERNAME_MAX = 32;

export interface MentionQuery {
  /** Index of the '@'. */
  start: number;
  /** What follows it up to the caret (may be empty). */
  query: string;
}

/**
 * mentionQuery finds the `@name` being typed just before the caret: the '@'
 * must start the text or follow a character that is neither part of a name
 * nor another '@' (so "bob@exa" is an address, not a mention).
 */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  let i = caret;
  while (i > 0 && NAME.test(text[i - 1]) && caret - i <= USERNAME_MAX) i--;
  if (caret - i > USERNAME_MAX) return null;
  const at = i - 1;
  if (at < 0 || text[at] !== '@') return null;
  if (at > 0 && (NAME.test(text[at - 1]) || text[at - 1] === '@')) return null;
  return { start: at, query: text.slice(i, caret) };
}

export interface MentionCandidate {
  user_id: number;
  username: string;
  display_name: string;
}

/**
 * mentionCandidates are the members to offer for a query, best first:
 * usernames that start with it, then display names with a word that does,
 * each alphabetical; never me; at most limit.
 */
export function mentionCandidates<T extends MentionCandidate>(members: readonly T[], query: string, meId: number | undefined, limit = 8): T[] {
  const q = query.toLowerCase();
  const rank = (m: T): number => {
    if (m.username.toLowerCase().startsWith(q)) return 0;
    if ((m.display_name ?? '').toLowerCase().split(/\s+/).some((w) => w.startsWith(q))) return 1;
    return -1;
  };
  return members
    .filter((m) => m.user_id !== meId)
    .map((m) => ({ m, r: rank(m) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.m.username.localeCompare(b.m.username))
    .slice(0, limit)
    .map((x) => x.m);
}

/**
 * insertMention replaces the query (from its '@' to the caret) with
 * `@username ` and gives the new text and where the caret goes.
 */
export function insertMention(text: string, caret: number, q: MentionQuery, username: string): { text: string; caret: number } {
  const rest = text.slice(caret);
  // A space after, unless one is already there.
  const ins = `@${username}` + (rest.startsWith(' ') ? '' : ' ');
  const next = text.slice(0, q.start) + ins + rest;
  return { text: next, caret: q.start + ins.length + (rest.startsWith(' ') ? 1 : 0) };
}

export type MentionSegment = { text: string; username?: undefined } | { text: string; username: string };

/**
 * splitMentions splits text into plain runs and the `@name`s that name one
 * of usernames (lower case; the message's mentioned members), in order;
 * joined, the runs give the text back. A name ending in '.', '-' or '_'
 * counts without them when only that names a member.
 */
export function splitMentions(text: string, usernames: ReadonlySet<string>): MentionSegment[] {
  if (usernames.size === 0 || !text.includes('@')) return [{ text }];
  const out: MentionSegment[] = [];
  let plain = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '@' || (i > 0 && (NAME.test(text[i - 1]) || text[i - 1] === '@'))) continue;
    let j = i + 1;
    while (j < text.length && NAME.test(text[j]) && j - i - 1 <= USERNAME_MAX) j++;
    let name = text.slice(i + 1, j);
    if (!usernames.has(name.toLowerCase())) {
      const trimmed = name.replace(/[._-]+$/, '');
      if (trimmed === name || !usernames.has(trimmed.toLowerCase())) {
        i = j - 1;
        continue;
      }
      name = trimmed;
    }
    if (i > plain) out.push({ text: text.slice(plain, i) });
    out.push({ text: '@' + name, username: name.toLowerCase() });
    plain = i + 1 + name.length;
    i = plain - 1;
  }
  if (plain < text.length) out.push({ text: text.slice(plain) });
  return out;
}
