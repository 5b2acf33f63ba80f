// The call itself, full screen: the other person's video (or, for a voice
// call, their name and picture), my own preview, mute, camera off, hang up
// and a running timer. When the call ends it says why for a moment.
import { useRef } from 'react';
import type { CallView } from '../../calls/callManager';
import { calls } from '../../calls/calls';
import { formatDuration, nameOf } from '../../lib/format';
import { chat } from '../../app';
import { useStore } from '../../state/store';
import { Handle } from '../Handle';
import { Avatar, Icon, icons } from '../ui';
import { useNow } from '../../lib/useNow';
import { RemoteAudio, RoundButton, StreamVideo, useDialogFocus } from './callUi';

function statusOf(call: CallView, now: number): string {
  switch (call.phase) {
    case 'outgoing':
      return call.ringing ? 'Ringing…' : 'Calling…';
    case 'incoming':
    case 'connecting':
      return 'Connecting…';
    case 'active':
      return formatDuration(((now - (call.answeredAt ?? now)) / 1000) | 0);
    case 'ended':
      return call.end?.message ?? 'Call ended';
  }
}

export function CallScreen({ call }: { call: CallView }) {
  const name = nameOf(call.peer);
  const peerPhoto = useStore(chat, (st) => st.conversations[call.conversationId]?.peer?.avatar_url);
  const video = call.media === 'video';
  const ended = call.phase === 'ended';
  const active = call.phase === 'active';
  const now = useNow(active);
  const root = useRef<HTMLDivElement>(null);
  const none = useRef<HTMLElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  // Focus goes to the dialog itself (not Hang up, where a stray key would end
  // the call); Tab reaches the controls. Once ended, to Close.
  useDialogFocus(root, ended ? close : none, `${call.key}:${ended}`);

  const remoteVideo = video && active && !!call.remoteStream && call.remoteStream.getVideoTracks().length > 0;
  // Before the other person's picture arrives, my own camera fills the screen, dimmed.
  const localBackdrop = video && !remoteVideo && !ended && !!call.localStream && !call.cameraOff;
  const status = statusOf(call, now);
  const problem = ended && !!call.end?.sticky;

  return (
    <div
      ref={root}
      role="dialog"
      aria-modal="true"
      aria-label={`${video ? 'Video' : 'Voice'} call with ${name}`}
      tabIndex={-1}
      data-testid="call-screen"
      data-phase={call.phase}
      className="palette-fixed fixed inset-0 z-50 flex flex-col overflow-hidden bg-slate-950 text-white outline-none"
    >
      <RemoteAudio stream={ended ? null : call.remoteStream} />
      <div className="relative min-h-0 flex-1 overflow-hidden">
        {remoteVideo ? (
          <StreamVideo stream={call.remoteStream} muted className="absolute inset-0 h-full w-full bg-black object-contain" testId="remote-video" />
        ) : localBackdrop ? (
          <>
            <StreamVideo stream={call.localStream} muted mirror className="absolute inset-0 h-full w-full scale-105 object-cover blur-sm" />
            <div aria-hidden="true" className="absolute inset-0 bg-slate-950/60" />
          </>
        ) : (
          <div aria-hidden="true" className="absolute inset-0 bg-[radial-gradient(circle_at_50%_35%,#134e4a_0%,#0f172a_55%,#020617_100%)]" />
        )}

        {remoteVideo ? (
          <div className="absolute inset-x-0 top-0 flex items-center justify-between gap-3 bg-gradient-to-b from-black/70 to-transparent px-5 pb-10 pt-4">
            <div className="min-w-0">
              <h2 className="truncate text-lg font-semibold">
                {name} <Handle username={call.peer.username} className="text-sm text-white/70" />
              </h2>
              <p className="text-sm text-white/80 tabular-nums" role="timer" data-testid="call-timer">
                {status}
              </p>
            </div>
            {call.connectionState === 'disconnected' && <span className="rounded-full bg-amber-500/90 px-3 py-1 text-xs font-medium">Reconnecting…</span>}
          </div>
        ) : (
          <div className="relative flex h-full flex-col items-center justify-center gap-3 px-6 text-center">
            <Avatar name={name} seed={call.peer.id} size="xl" src={peerPhoto} />
            <h2 className="mt-2 max-w-full truncate text-2xl font-semibold" data-testid="call-peer-name">
              {name}
            </h2>
            <Handle username={call.peer.username} className="-mt-2 max-w-full text-sm text-white/70" />
            {!ended && <p className="text-sm text-white/70">{video ? 'Video call' : 'Voice call'}</p>}
            {active ? (
              <p className="text-lg tabular-nums" role="timer" data-testid="call-timer">
                {status}
              </p>
            ) : ended ? (
              <div role={problem ? 'alert' : 'status'} data-testid="call-ended" className={`mt-1 max-w-md text-base ${problem ? 'rounded-2xl bg-red-500/15 px-4 py-3 text-red-100 ring-1 ring-red-400/40' : 'text-white/90'}`}>
                <p>{status}</p>
                {call.end?.seconds !== undefined && <p className="mt-1 text-sm tabular-nums text-white/70">{formatDuration(call.end.seconds)}</p>}
              </div>
            ) : (
              <p className="text-base text-white/80" aria-live="polite" data-testid="call-status">
                {status}
              </p>
            )}
            {call.connectionState === 'disconnected' && !ended && <p className="text-sm text-amber-300">Reconnecting…</p>}
          </div>
        )}

        {video && !ended && call.localStream && (remoteVideo || call.cameraOff) && (
          <div className="absolute bottom-4 right-4 aspect-[3/4] w-28 overflow-hidden rounded-2xl bg-slate-800 shadow-2xl ring-1 ring-white/20 sm:aspect-video sm:w-56" data-testid="local-preview">
            {call.cameraOff ? (
              <div className="flex h-full w-full flex-col items-center justify-center gap-1 text-xs text-white/70">
                <Icon d={icons.videoOff} className="h-6 w-6" />
                Camera off
              </div>
            ) : (
              <StreamVideo stream={call.localStream} muted mirror className="h-full w-full object-cover" testId="local-video" />
            )}
          </div>
        )}
        {call.muted && !ended && (
          <span className="absolute bottom-4 left-4 inline-flex items-center gap-1.5 rounded-full bg-black/60 px-3 py-1 text-xs font-medium">
            <Icon d={icons.micOff} className="h-3.5 w-3.5" /> You are muted
          </span>
        )}
      </div>

      <div className="flex shrink-0 items-start justify-center gap-6 bg-slate-950 px-4 pb-[max(1.25rem,env(safe-area-inset-bottom))] pt-4 sm:gap-10">
        {ended ? (
          <button
            ref={close}
            type="button"
            onClick={() => calls.dismiss()}
            className="my-3 rounded-full bg-white/10 px-6 py-2.5 text-sm font-medium text-white ring-1 ring-white/20 hover:bg-white/20 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-white"
          >
            Close
          </button>
        ) : (
          <>
            <RoundButton label="Mute" icon={call.muted ? icons.micOff : icons.mic} tone={call.muted ? 'pressed' : 'light'} pressed={call.muted} onClick={() => calls.toggleMute()} testId="toggle-mute" />
            {video && <RoundButton label="Camera off" icon={call.cameraOff ? icons.videoOff : icons.video} tone={call.cameraOff ? 'pressed' : 'light'} pressed={call.cameraOff} onClick={() => calls.toggleCamera()} testId="toggle-camera" />}
            <RoundButton label="Hang up" icon={icons.phone} iconClass="rotate-[135deg]" tone="danger" onClick={() => calls.hangup()} testId="hang-up" />
          </>
        )}
      </div>
    </div>
  );
}
