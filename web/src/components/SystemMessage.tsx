// System messages (joined, left, renamed, …) as a centred note.
import type { Message } from '../api/types';

export function systemText(m: Message, name: (id: number) => string): string {
  const s = m.system;
  if (!s) return m.text || 'Update';
  const actor = s.actor_id ? name(s.actor_id) : 'Someone';
  const target = s.target_id ? name(s.target_id) : 'someone';
  const self = s.actor_id !== undefined && s.actor_id === s.target_id;
  switch (s.event) {
    case 'created':
      return s.name ? `${actor} created the group “${s.name}”` : `${actor} created the conversation`;
    case 'joined':
      return self || !s.target_id ? `${actor} joined` : `${actor} added ${target}`;
    case 'left':
      return `${self || !s.target_id ? actor : target} left`;
    case 'removed':
      return `${actor} removed ${target}`;
    case 'renamed':
      return `${actor} renamed the group to “${s.name ?? ''}”`;
    case 'role_changed':
      return `${actor} made ${target} ${s.name === 'owner' ? 'the owner' : s.name === 'admin' ? 'an admin' : 'a member'}`;
    case 'code_rotated':
      return `${actor} changed the join code`;
    case 'call': {
      const media = s.media === 'video' ? 'Video call' : 'Voice call';
      if (s.name === 'missed') return `Missed ${media.toLowerCase()}`;
      if (s.name === 'declined') return `${media} declined`;
      const mins = s.seconds ? ` (${Math.floor(s.seconds / 60)}:${String(s.seconds % 60).padStart(2, '0')})` : '';
      return `${media} ended${mins}`;
    }
    default:
      return m.text || s.event;
  }
}

export function SystemMessage({ message, name }: { message: Message; name: (id: number) => string }) {
  return (
    <div className="my-2 flex justify-center" data-seq={message.seq} data-testid="system-message">
      <span className="max-w-[85%] rounded-lg bg-white/80 px-3 py-1 text-center text-xs text-slate-600 shadow-sm">{systemText(message, name)}</span>
    </div>
  );
}
