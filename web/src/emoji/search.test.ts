import { describe, expect, it } from 'vitest';
import { loadEmoji, searchEmoji, type EmojiGroup } from './search';

const groups: EmojiGroup[] = [
  { key: 'smileys-emotion', name: 'Smileys & emotion', emoji: [['😀', 'grinning face', 'face grin happy'], ['❤️', 'red heart', 'heart love']] },
  { key: 'objects', name: 'Objects', emoji: [['🔥', 'fire', 'flame hot lit'], ['💔', 'broken heart', 'break broken']] },
];

describe('searchEmoji', () => {
  it('finds emoji by the start of words of their name, names before tags', () => {
    expect(searchEmoji(groups, 'heart').map((e) => e[0])).toEqual(['❤️', '💔']);
    expect(searchEmoji(groups, 'red hea').map((e) => e[0])).toEqual(['❤️']);
    expect(searchEmoji(groups, 'love').map((e) => e[0])).toEqual(['❤️']);
    expect(searchEmoji(groups, 'FLA').map((e) => e[0])).toEqual(['🔥']);
    expect(searchEmoji(groups, 'eart')).toEqual([]);
    expect(searchEmoji(groups, '   ')).toEqual([]);
  });

  it('loads the built data: named groups of emoji, no components, searchable', async () => {
    const all = await loadEmoji();
    expect(all.map((g) => g.key)).toContain('smileys-emotion');
    expect(all.map((g) => g.key)).not.toContain('component');
    expect(all.reduce((n, g) => n + g.emoji.length, 0)).toBeGreaterThan(1500);
    expect(searchEmoji(all, 'thumbs up')[0][0].replace(/\uFE0F/g, '')).toBe('👍');
    expect(searchEmoji(all, 'grinning face')[0][1]).toBe('grinning face');
  });
});
