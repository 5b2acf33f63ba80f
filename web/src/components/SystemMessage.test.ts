import { describe, expect, it } from 'vitest';
import { msg } from '../test/fakes';
import { callText, systemText } from './SystemMessage';

const call = (name: string, media: string, seconds?: number) => msg(12, 4, { kind: 'system', text: '', system: { event: 'call', name, media, seconds, actor_id: 3, target_id: 5 } });
const names = (id: number) => (id === 3 ? 'Alice' : 'Bob');

describe('call history', () => {
  it('says how long an answered call lasted', () => {
    expect(systemText(call('ended', 'video', 7), names, 3)).toBe('Video call, 0:07');
    expect(systemText(call('ended', 'audio', 3723), names, 5)).toBe('Voice call, 1:02:03');
    expect(systemText(call('ended', 'audio'), names, 5)).toBe('Voice call, 0:00');
  });

  it('tells missed and declined calls from each side', () => {
    expect(callText(call('missed', 'video').system!, 5)).toBe('Missed video call');
    expect(callText(call('missed', 'video').system!, 3)).toBe('Video call, no answer');
    expect(callText(call('declined', 'audio').system!, 3)).toBe('Voice call, declined');
    expect(callText(call('declined', 'audio').system!, 5)).toBe('Voice call, you declined');
    expect(callText(call('declined', 'audio').system!)).toBe('Voice call declined');
  });
});

describe('membership history', () => {
  it('says which admin added whom back', () => {
    const added = msg(12, 4, { kind: 'system', text: '', system: { event: 'added', actor_id: 3, target_id: 5 } });
    expect(systemText(added, names, 5)).toBe('Alice added Bob');
  });
});
