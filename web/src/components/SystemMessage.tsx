// System messages (joined, left, renamed, …) as a centred note; calls
// (ended, missed, declined) as a note with a phone or camera icon.
import type { Message, SystemInfo } from '../api/types';
import { formatDuration, formatTime } from '../lib/format';
import { Icon, icons } from './ui';

/**
 * callText says what a call left in the history, from the reader's side
 * (meId): "Video call, 0:07", "Missed voice call", "Voice call, no answer".
 */
export function callText(s: SystemInfo, meId?: number): string {
  const kind = s.media === 'video' ? 'Video call' : 'Voice call';
  const outgoing = meId !== undefined && s.actor_id === meId;
  const incoming = meId !== undefined && s.target_id === meId;
  switch (s.name) {
    case 'missed':
      return outgoing ? `${kind}, no answer` : `Missed ${kind.toLowerCase()}`;
    case 'declined':
      return outgoing ? `${kind}, declined` : incoming ? `${kind}, you declined` : `${kind} declined`;
    default:
      return `${kind}, ${formatDuration(s.seconds ?? 0)}`;
  }
}

export function systemText(m: Message, name: (id: number) => string, meId?: number): string {
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
    case 'added':
      return `${actor} added ${target}`;
    case 'renamed':
      return `${actor} renamed the group to “${s.name ?? ''}”`;
    case 'role_changed':
      return `${actor} made ${target} ${s.name === 'owner' ? 'the owner' : s.name === 'admin' ? 'an admin' : 'a member'}`;
    case 'code_rotated':
      return `${actor} changed the join code`;
    case 'call':
      return callText(s, meId);
    default:
      return m.text || s.event;
  }
}

export function SystemMessage({ message, name, meId }: { message: Message; name: (id: number) => string; meId?: number }) {
  if (message.system?.event === 'call') return <CallMessage message={message} meId={meId} />;
  return (
    <div className="my-2 flex justify-center" data-seq={message.seq} data-testid="system-message">
      <span className="max-w-[85%] rounded-lg bg-surface/80 px-3 py-1 text-center text-xs text-slate-600 shadow-sm">{systemText(message, name, meId)}</span>
    </div>
  );
}

function CallMessage({ message, meId }: { message: Message; meId?: number }) {
  const s = message.system!;
  const outgoing = meId !== undefined && s.actor_id === meId;
  const missed = s.name === 'missed' && !outgoing;
  const declined = s.name === 'declined';
  const icon = missed ? icons.phoneMissed : s.media === 'video' ? icons.video : outgoing ? icons.phoneOutgoing : icons.phoneIncoming;
  const text = callText(s, meId);
  return (
    <div className="my-2 flex justify-center" data-seq={message.seq} data-testid="system-message">
      <span
        className="inline-flex max-w-[85%] items-center gap-2 rounded-xl bg-surface/90 py-1.5 pl-2 pr-3 text-sm shadow-sm"
        data-testid="call-message"
        data-call={s.name}
        data-media={s.media}
      >
        <span aria-hidden="true" className={`flex h-7 w-7 shrink-0 items-center justify-center rounded-full ${missed ? 'bg-red-50 text-red-700' : declined ? 'bg-amber-50 text-amber-700' : 'bg-brand-50 text-brand-700'}`}>
          <Icon d={icon} className="h-4 w-4" />
        </span>
        <span className="sr-only">{outgoing ? 'Outgoing: ' : 'Incoming: '}</span>
        <span className={`font-medium ${missed ? 'text-red-700' : 'text-slate-700'}`} data-testid="call-message-text">
          {text}
        </span>
        <span className="text-xs text-slate-600">
          {formatTime(message.created_at)}
        </span>
      </span>
    </div>
  );
}
