// The picker's emoji and how they are found by name.

/** One emoji: the character(s), its English name, and more words for it. */
export type Emoji = [char: string, label: string, tags: string];

export interface EmojiGroup {
  key: string;
  name: string;
  emoji: Emoji[];
}

/**
 * searchEmoji finds the emoji whose name or tags have a word starting with
 * each word of the query ("red hea" finds "red heart"), names first.
 */
export function searchEmoji(groups: EmojiGroup[], query: string, limit = 200): Emoji[] {
  const words = query.toLowerCase().split(/[\s_:]+/).filter(Boolean);
  if (words.length === 0) return [];
  const byName: Emoji[] = [];
  const byTag: Emoji[] = [];
  for (const g of groups) {
    for (const e of g.emoji) {
      const name = e[1].toLowerCase().split(/[\s:,.’'-]+/);
      const all = name.concat(e[2].toLowerCase().split(' '));
      if (!words.every((w) => all.some((x) => x.startsWith(w)))) continue;
      if (words.every((w) => name.some((x) => x.startsWith(w)))) byName.push(e);
      else byTag.push(e);
    }
  }
  return byName.concat(byTag).slice(0, limit);
}

let loaded: Promise<EmojiGroup[]> | null = null;

/** loadEmoji loads the emoji data (its own chunk, served by Parley) once. */
export function loadEmoji(): Promise<EmojiGroup[]> {
  loaded ??= import('virtual:emoji-data').then((m) => m.default);
  return loaded;
}
