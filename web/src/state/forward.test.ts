import { describe, expect, it } from 'vitest';
import type { Conversation, ForwardResult } from '../api/types';
import { conv } from '../test/fakes';
import { FORWARD_MAX, forwardChoices, forwardSummary, toggleChoice } from './forward';

describe('forwardChoices', () => {
  const list: Conversation[] = [
    { ...conv(1), name: 'Trip planning' },
    { ...conv(2), kind: 'direct', name: 'Carol Smith', peer: { id: 9, username: 'carol', display_name: 'Carol Smith', accepting_messages: true, created_at: '' } },
    { ...conv(3), name: 'Book club' },
  ];
  it('keeps the order given and finds by name or username, without case', () => {
    expect(forwardChoices(list, '').map((c) => c.id)).toEqual([1, 2, 3]);
    expect(forwardChoices(list, '  TRIP ').map((c) => c.id)).toEqual([1]);
    expect(forwardChoices(list, 'carol').map((c) => c.id)).toEqual([2]);
    expect(forwardChoices(list, 'o').map((c) => c.id)).toEqual([2, 3]);
    expect(forwardChoices(list, 'nobody')).toEqual([]);
  });
});

describe('toggleChoice', () => {
  it('adds and removes, up to the limit', () => {
    let chosen: number[] = [];
    for (let i = 1; i <= FORWARD_MAX + 2; i++) chosen = toggleChoice(chosen, i);
    expect(chosen).toEqual([1, 2, 3, 4, 5]);
    chosen = toggleChoice(chosen, 3);
    expect(chosen).toEqual([1, 2, 4, 5]);
    expect(toggleChoice(chosen, 9)).toEqual([1, 2, 4, 5, 9]);
  });
});

describe('forwardSummary', () => {
  const name = (id: number) => ['', 'Carol', 'Trip', 'Dave', 'Erin', 'Book club'][id];
  const ok = (id: number): ForwardResult => ({ conversation_id: id, created: true });
  it('names where it went, and why not', () => {
    expect(forwardSummary([ok(1)], name)).toEqual({ sent: 'Forwarded to Carol', failed: [] });
    expect(forwardSummary([ok(1), ok(2)], name).sent).toBe('Forwarded to Carol and Trip');
    expect(forwardSummary([ok(1), ok(2), { ...ok(4), created: false }], name).sent).toBe('Forwarded to Carol, Trip and Erin');
    expect(forwardSummary([ok(1), ok(2), ok(4), ok(5)], name).sent).toBe('Forwarded to 4 chats');
    const r = forwardSummary([ok(1), { conversation_id: 3, created: false, error: { code: 'not_accepting', message: 'dave is not accepting messages.' } }], name);
    expect(r).toEqual({ sent: 'Forwarded to Carol', failed: ['Not forwarded to Dave: dave is not accepting messages.'] });
    expect(forwardSummary([{ conversation_id: 3, created: false, error: { code: 'x', message: 'No.' } }], name).sent).toBeUndefined();
  });
});
