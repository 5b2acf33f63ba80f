// The ringing card: who calls, audio or video, Accept / Decline. Shown on
// every page (rings go to all of a person's devices); it goes away when the
// call is answered on another device, cancelled, or rings out.
import { useId, useRef } from 'react';
import type { CallView } from '../../calls/callManager';
import { calls } from '../../calls/calls';
import { nameOf } from '../../lib/format';
import { chat } from '../../app';
import { useStore } from '../../state/store';
import { Handle } from '../Handle';
import { Avatar, icons } from '../ui';
import { RoundButton, useDialogFocus, useRingtone } from './callUi';

export function IncomingCallScreen({ call }: { call: CallView }) {
  const name = nameOf(call.peer);
  const peerPhoto = useStore(chat, (st) => st.conversations[call.conversationId]?.peer?.avatar_url);
  const ended = call.phase === 'ended';
  const video = call.media === 'video';
  const titleId = useId();
  const descId = useId();
  const root = useRef<HTMLDivElement>(null);
  const accept = useRef<HTMLButtonElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  useDialogFocus(root, ended ? close : accept, `${call.key}:${ended}`);
  useRingtone(!ended);

  return (
    <div className="palette-fixed fixed inset-0 z-50 flex items-end justify-center bg-slate-950/60 p-4 backdrop-blur-sm sm:items-center" data-testid="incoming-call" data-phase={call.phase}>
      <div
        ref={root}
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descId}
        tabIndex={-1}
        className="w-full max-w-sm rounded-3xl bg-gradient-to-b from-slate-800 to-slate-950 px-6 pb-6 pt-8 text-center text-white shadow-2xl ring-1 ring-white/10 outline-none"
      >
        <div className="relative mx-auto mb-5 flex h-24 w-24 items-center justify-center">
          {!ended && <span aria-hidden="true" className="absolute inset-0 animate-ping rounded-full bg-brand-400/30 [animation-duration:1.6s]" />}
          <Avatar name={name} seed={call.peer.id} size="xl" src={peerPhoto} />
        </div>
        <h2 id={titleId} className="truncate text-xl font-semibold" data-testid="incoming-call-name">
          {name}
        </h2>
        <Handle username={call.peer.username} className="block text-sm text-slate-400" />
        <p id={descId} className="mt-1 text-sm text-slate-300" role={ended ? 'status' : undefined} data-testid="incoming-call-kind">
          {ended ? call.end?.message : `Incoming ${video ? 'video' : 'voice'} call`}
        </p>
        {ended ? (
          <div className="mt-6">
            <button ref={close} type="button" onClick={() => calls.dismiss()} className="rounded-full bg-white/10 px-5 py-2 text-sm font-medium text-white ring-1 ring-white/20 hover:bg-white/20 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-white">
              Close
            </button>
          </div>
        ) : (
          <div className="mt-8 flex justify-center gap-16">
            <RoundButton label="Decline" icon={icons.phone} iconClass="rotate-[135deg]" tone="danger" onClick={() => calls.decline()} testId="decline-call" />
            <RoundButton ref={accept} label="Accept" icon={video ? icons.video : icons.phone} tone="accept" onClick={() => void calls.accept()} testId="accept-call" />
          </div>
        )}
      </div>
    </div>
  );
}
