// Voice and video call buttons for a direct chat's header, when the server
// has calls on (GET /api/v1/features → calls: true).
import type { User } from '../../api/types';
import { chat, session } from '../../app';
import { calls } from '../../calls/calls';
import { nameOf } from '../../lib/format';
import { useStore } from '../../state/store';
import { Icon, icons } from '../ui';

export function CallButtons({ conversationId, peer }: { conversationId: number; peer: User }) {
  const enabled = useStore(session, (s) => s.features.calls);
  const inCall = useStore(calls.store, (s) => !!s.call && s.call.phase !== 'ended');
  const elsewhere = useStore(calls.store, (s) => !!s.elsewhere);
  const online = useStore(chat, (s) => s.connection.status === 'online');
  if (!enabled) return null;
  const name = nameOf(peer);
  const why =
    peer.accepting_messages === false ? `${name} isn’t accepting calls right now` : inCall ? 'You are in a call' : elsewhere ? 'You are in a call on another device' : !online ? 'Calls need a connection to the server' : undefined;
  const ref = { id: peer.id, username: peer.username, display_name: peer.display_name };
  const cls =
    'rounded-full p-2 text-slate-600 transition hover:bg-slate-100 hover:text-brand-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:cursor-not-allowed disabled:text-slate-300 disabled:hover:bg-transparent';
  return (
    <>
      <button type="button" className={cls} aria-label="Start voice call" title={why ?? `Voice call with ${name}`} disabled={!!why} onClick={() => void calls.place(conversationId, ref, 'audio')} data-testid="start-voice-call">
        <Icon d={icons.phone} />
      </button>
      <button type="button" className={cls} aria-label="Start video call" title={why ?? `Video call with ${name}`} disabled={!!why} onClick={() => void calls.place(conversationId, ref, 'video')} data-testid="start-video-call">
        <Icon d={icons.video} />
      </button>
    </>
  );
}
