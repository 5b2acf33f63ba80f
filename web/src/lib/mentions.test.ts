import { describe, expect, it } from 'vitest';
import { insertMention, mentionCandidates, mentionQuery, splitMentions } from './mentions';

describe('mentionQuery', () => {
  it('finds the @name before the caret', () => {
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('hi @al', 6)).toEqual({ start: 3, query: 'al' });
    expect(mentionQuery('hi @al there', 6)).toEqual({ start: 3, query: 'al' });
    expect(mentionQuery('(@bob.s', 7)).toEqual({ start: 1, query: 'bob.s' });
    expect(mentionQuery('line\n@c', 7)).toEqual({ start: 5, query: 'c' });
  });
  it('is not a mention inside an address, after another @, past a space or too long', () => {
    expect(mentionQuery('bob@exa', 7)).toBeNull();
    expect(mentionQuery('@@al', 4)).toBeNull();
    expect(mentionQuery('@al ', 4)).toBeNull();
    expect(mentionQuery('hello', 5)).toBeNull();
    expect(mentionQuery('', 0)).toBeNull();
    expect(mentionQuery('@' + 'a'.repeat(33), 34)).toBeNull();
    expect(mentionQuery('@' + 'a'.repeat(32), 33)).toEqual({ start: 0, query: 'a'.repeat(32) });
  });
  it('looks only before the caret', () => {
    expect(mentionQuery('@alice and', 3)).toEqual({ start: 0, query: 'al' });
    expect(mentionQuery('@alice and', 10)).toBeNull();
  });
});

describe('mentionCandidates', () => {
  const members = [
    { user_id: 1, username: 'alice', display_name: 'Alice Smith' },
    { user_id: 2, username: 'bob', display_name: 'Bob' },
    { user_id: 3, username: 'albert', display_name: 'Bert' },
    { user_id: 4, username: 'carol', display_name: 'Carol Albright' },
    { user_id: 5, username: 'dave', display_name: '' },
  ];
  it('offers usernames that start with the query first, then display names with a word that does, never me', () => {
    expect(mentionCandidates(members, 'al', 2).map((m) => m.username)).toEqual(['albert', 'alice', 'carol']);
    expect(mentionCandidates(members, 'AL', 1).map((m) => m.username)).toEqual(['albert', 'carol']);
    expect(mentionCandidates(members, 'smi', 2).map((m) => m.username)).toEqual(['alice']);
    expect(mentionCandidates(members, 'zz', 2)).toEqual([]);
  });
  it('offers everyone but me for a bare @, alphabetical, at most the limit', () => {
    expect(mentionCandidates(members, '', 1).map((m) => m.username)).toEqual(['albert', 'bob', 'carol', 'dave']);
    expect(mentionCandidates(members, '', 1, 2).map((m) => m.username)).toEqual(['albert', 'bob']);
  });
});

describe('insertMention', () => {
  it('replaces the query with @username and a space, caret after it', () => {
    const q = mentionQuery('hi @al', 6)!;
    expect(insertMention('hi @al', 6, q, 'alice')).toEqual({ text: 'hi @alice ', caret: 10 });
  });
  it('keeps the text after the caret and does not double a space', () => {
    const q = mentionQuery('hi @al see you', 6)!;
    expect(insertMention('hi @al see you', 6, q, 'alice')).toEqual({ text: 'hi @alice see you', caret: 10 });
    const q2 = mentionQuery('@b,ok', 2)!;
    expect(insertMention('@b,ok', 2, q2, 'bob')).toEqual({ text: '@bob ,ok', caret: 5 });
  });
});

describe('splitMentions', () => {
  const names = new Set(['alice', 'bob.s']);
  it('marks the @names of mentioned members, by the server’s rule', () => {
    expect(splitMentions('hi @Alice!', names)).toEqual([{ text: 'hi ' }, { text: '@Alice', username: 'alice' }, { text: '!' }]);
    expect(splitMentions('@bob.s and @alice.', names)).toEqual([{ text: '@bob.s', username: 'bob.s' }, { text: ' and ' }, { text: '@alice', username: 'alice' }, { text: '.' }]);
  });
  it('leaves addresses, other names and doubled @ as text; joined, the runs are the text', () => {
    for (const t of ['mail alice@alice.org', '@carol hi', '@@alice', 'no at all', '@alicex']) {
      const segs = splitMentions(t, names);
      expect(segs.every((s) => !s.username), t).toBe(true);
      expect(segs.map((s) => s.text).join('')).toBe(t);
    }
    const t = 'a @alice b @bob.s. c';
    expect(splitMentions(t, names).map((s) => s.text).join('')).toBe(t);
  });
  it('is plain text when no one is mentioned', () => {
    expect(splitMentions('@alice', new Set())).toEqual([{ text: '@alice' }]);
  });
});
