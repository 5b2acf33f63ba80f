// What a person is told when a call cannot start or ends: the words for
// each refusal of the camera or microphone, each error of a call operation
// and each reason the server gives for ending a call.
import type { CallEvent, CallMedia, UserRef } from '../api/types';
import { nameOf } from '../lib/format';
import type { CallEnd } from './types';

/** errorCode is the protocol error code of a failed request ('connection_lost' when its connection went). */
export function errorCode(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; name?: unknown };
    if (typeof o.code === 'string') return o.code;
    if (o.name === 'ConnectionLost') return 'connection_lost';
  }
  return '';
}

/** mediaErrorMessage says why the camera or microphone could not be used. */
export function mediaErrorMessage(e: unknown, media: CallMedia): string {
  const what = media === 'video' ? 'camera and microphone' : 'microphone';
  const name = e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return `Parley can’t use your ${what}: the browser blocked access. Allow it for this site in the browser’s settings, then try again.`;
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return media === 'video' ? 'No camera or microphone was found. Connect one, then try again.' : 'No microphone was found. Connect one, then try again.';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return `Your ${what} could not be started. Another app may be using it.`;
    case 'NotSupportedError':
      return 'This browser can’t make calls from this page (calls need a secure HTTPS connection).';
    default:
      return `Parley couldn’t start your ${what}.`;
  }
}

export function requestProblem(e: unknown): CallEnd {
  const code = errorCode(e);
  if (code === 'connection_lost' || code === 'timeout' || code === 'unavailable')
    return { reason: 'error', message: 'The server could not be reached. Check your connection and try again.', sticky: true };
  const msg = e instanceof Error && e.message ? e.message : 'Something went wrong.';
  return { reason: 'error', message: msg, sticky: true };
}

export function inviteProblem(e: unknown, peer: UserRef): CallEnd {
  const who = nameOf(peer);
  switch (errorCode(e)) {
    case 'busy':
      return { reason: 'busy', message: `${who} is in another call`, sticky: false };
    case 'not_accepting':
      return { reason: 'not_accepting', message: `${who} isn’t accepting calls right now.`, sticky: true };
    case 'conflict':
      return { reason: 'conflict', message: 'You are already in a call, here or on another device.', sticky: true };
    case 'not_found':
      return { reason: 'error', message: 'This conversation can’t be called.', sticky: true };
    default:
      return requestProblem(e);
  }
}

/** What endedBy needs to know of the call that ended. */
export interface EndedCall {
  direction: 'outgoing' | 'incoming';
  answered: boolean;
  view: { peer: UserRef; answeredAt: number | null };
}

/** endedBy says, for this device, why the server ended its call. */
export function endedBy(ev: CallEvent, c: EndedCall, me: number | undefined): CallEnd {
  const who = nameOf(c.view.peer);
  const out = c.direction === 'outgoing';
  const byMe = ev.by !== undefined && ev.by === me;
  const answered = c.answered || c.view.answeredAt !== null;
  const seconds = typeof ev.seconds === 'number' ? ev.seconds : undefined;
  const end = (message: string): CallEnd => ({ reason: ev.reason ?? 'ended', message, seconds: answered ? (seconds ?? 0) : undefined, sticky: false });
  switch (ev.reason) {
    case 'declined':
      return end(out ? `${who} declined the call` : 'Declined on another device');
    case 'cancelled':
      return end(out ? 'Call cancelled on another device' : `Missed call from ${who}`);
    case 'missed':
      return end(out ? 'No answer' : `Missed call from ${who}`);
    case 'busy':
      return end(answered ? 'Call ended' : `${who} is in another call`);
    case 'hangup':
      return end(byMe ? 'Call ended' : `${who} ended the call`);
    case 'disconnected':
      return end(byMe ? 'Call ended: your connection was lost' : `Call ended: ${who}’s connection was lost`);
    default:
      return end('Call ended');
  }
}
