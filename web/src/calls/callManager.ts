// CallManager owns the state of calls on this device: the one module that
// speaks the call operations (call_invite, call_accept, call_ice,
// call_decline, call_cancel, call_hangup) over the realtime client, hears the
// `call` events, and drives the RTCPeerConnection and the local camera and
// microphone. Components only read its store and call its methods.
//
// A call on this device goes
//
//   outgoing ──answer──► connecting ──connected──► active ──► ended
//   incoming ──accept──► connecting ──connected──► active ──► ended
//
// and any state can end (declined, missed, answered elsewhere, hung up, the
// media refused, …). An ended call stays on screen for a moment with what
// happened, then the state goes back to no call (problems the person must
// read stay until dismissed).
//
// The parts: types.ts (what it needs and shows), peer.ts (the peer
// connection and the candidates held both ways), words.ts (what the person
// is told).
import type { CallEvent, CallMedia, IceCandidateJSON, Reply, UserRef } from '../api/types';
import { nameOf } from '../lib/format';
import { createStore, type Store } from '../state/store';
import { addStats, constraints, PeerLink, stopStream } from './peer';
import type { CallDeps, CallEnd, CallsState, CallStats, CallView, PeerConnectionLike } from './types';
import { endedBy, errorCode, inviteProblem, mediaErrorMessage, requestProblem } from './words';

export type { CallDeps, CallEnd, CallPhase, CallsState, CallStats, CallView, PeerConnectionLike } from './types';
export { constraints } from './peer';
export { mediaErrorMessage } from './words';

/** How long an ended call stays on screen. */
export const ENDED_SHOW_MS = 4000;
/** After a glare, how long to wait for the winning call's ring. */
export const GLARE_WAIT_MS = 5000;
const DEFAULT_RING_MS = 45_000;

interface Live {
  view: CallView;
  callId: string | null;
  direction: 'outgoing' | 'incoming';
  link: PeerLink;
  /** Incoming: the caller's offer. */
  offer: string;
  answered: boolean;
  accepting: boolean;
  glareWait: boolean;
  done: boolean;
  /** Events that came before the invite's reply named the call. */
  early: CallEvent[];
  timers: ReturnType<typeof setTimeout>[];
}

interface HeldRing {
  ev: CallEvent;
  ice: IceCandidateJSON[];
  timer: ReturnType<typeof setTimeout>;
}

export class CallManager {
  readonly store: Store<CallsState>;
  private d: CallDeps;
  private cur: Live | null = null;
  /** Rings that came while this device was busy with a call (glare). */
  private held = new Map<string, HeldRing>();
  private nextKey = 1;
  private unsub: (() => void) | null = null;
  private everConnected = false;
  private lastConnectionState = 'new';

  constructor(deps: CallDeps) {
    this.d = deps;
    this.store = createStore<CallsState>({ call: null, elsewhere: null });
  }

  /** start listens to the server's call events. */
  start() {
    if (this.unsub) return;
    this.unsub = this.d.onEvent((ev) => {
      if (ev.ev === 'call') this.onCall(ev);
    });
  }

  /** stop ends everything here without a word to the server (logging out closes the socket). */
  stop() {
    this.unsub?.();
    this.unsub = null;
    this.reset();
  }

  private now() {
    return this.d.now ? this.d.now() : Date.now();
  }

  /** busy says whether this device has a call that has not ended. */
  get busy(): boolean {
    return !!this.cur && !this.cur.done;
  }

  // ---- placing a call ----

  /** place calls the other member of a direct conversation. */
  async place(conversationId: number, peer: UserRef, media: CallMedia): Promise<void> {
    if (this.busy) return;
    const c = this.begin({ direction: 'outgoing', phase: 'outgoing', callId: null, conversationId, peer, media, screen: 'call' });
    const servers = this.fetchIceServers();
    let stream: MediaStream;
    try {
      stream = await this.d.getUserMedia(constraints(media));
    } catch (e) {
      if (this.alive(c)) this.finish(c, { reason: 'media', message: mediaErrorMessage(e, media), sticky: true });
      return;
    }
    if (!this.alive(c)) return stopStream(stream);
    this.setStream(c, stream);
    const iceServers = await servers;
    if (!this.alive(c)) return;
    const pc = this.makePeer(c, iceServers, stream);
    let sdp: string;
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      sdp = pc.localDescription?.sdp || offer.sdp || '';
    } catch {
      if (this.alive(c)) this.finish(c, { reason: 'failed', message: 'This browser could not set up the call.', sticky: true });
      return;
    }
    if (!this.alive(c)) return;
    let reply: Reply;
    try {
      reply = await this.d.request('call_invite', { conversation_id: conversationId, media, sdp });
    } catch (e) {
      if (!this.alive(c)) return;
      if (errorCode(e) === 'glare') return this.glare(c);
      this.finish(c, inviteProblem(e, peer));
      return;
    }
    const callId = String(reply.call_id ?? '');
    c.callId = callId;
    this.update(c, { callId });
    if (c.done) {
      // Hung up while the invite was on its way: withdraw it now.
      this.withdraw(callId);
      return;
    }
    this.update(c, { ringing: true });
    c.link.sendable();
    const early = c.early;
    c.early = [];
    for (const ev of early) if (ev.call_id === callId) this.onCall(ev);
  }

  // ---- answering ----

  /** accept answers the call ringing on this device. */
  async accept(): Promise<void> {
    const c = this.cur;
    if (!c || c.done || c.view.phase !== 'incoming' || c.accepting) return;
    c.accepting = true;
    this.clearTimers(c); // the ring timeout
    this.update(c, { phase: 'connecting', screen: 'call', ringUntil: null });
    const callId = c.callId!;
    const media = c.view.media;
    const servers = this.fetchIceServers();
    let stream = c.view.localStream;
    if (!stream) {
      try {
        stream = await this.d.getUserMedia(constraints(media));
      } catch (e) {
        if (!this.alive(c)) return;
        this.quietly('call_decline', callId);
        this.finish(c, { reason: 'media', message: `${mediaErrorMessage(e, media)} The call was declined.`, sticky: true });
        return;
      }
      if (!this.alive(c)) return stopStream(stream);
      this.setStream(c, stream);
    }
    const iceServers = await servers;
    if (!this.alive(c)) return;
    const pc = this.makePeer(c, iceServers, stream);
    let sdp: string;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: c.offer });
      if (!this.alive(c)) return;
      c.link.remoteReady();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      sdp = pc.localDescription?.sdp || answer.sdp || '';
    } catch {
      if (!this.alive(c)) return;
      this.quietly('call_decline', callId);
      this.finish(c, { reason: 'failed', message: 'This browser could not set up the call. It was declined.', sticky: true });
      return;
    }
    if (!this.alive(c)) return;
    try {
      await this.d.request('call_accept', { call_id: callId, sdp });
    } catch (e) {
      if (!this.alive(c)) return;
      const code = errorCode(e);
      if (code === 'conflict') this.finish(c, { reason: 'answered_elsewhere', message: 'Answered on another device', sticky: false });
      else if (code === 'not_found') this.finish(c, { reason: 'cancelled', message: 'The call had already ended', sticky: false });
      else this.finish(c, requestProblem(e));
      return;
    }
    if (!this.alive(c)) return;
    c.answered = true;
    this.update(c, { answeredAt: c.view.answeredAt ?? this.now() });
    c.link.sendable();
  }

  /** decline turns down the call ringing on this device. */
  decline() {
    const c = this.cur;
    if (!c || c.done || c.view.phase !== 'incoming') return;
    this.quietly('call_decline', c.callId!);
    this.finish(c, null);
  }

  /** hangup ends this device's call, whatever its state (cancels an unanswered one). */
  hangup() {
    const c = this.cur;
    if (!c || c.done) return;
    if (c.view.phase === 'incoming') return this.decline();
    const id = c.callId;
    if (c.direction === 'outgoing' && !c.answered) {
      if (id) this.withdraw(id); // else place() withdraws it once the invite's reply names it
      this.finish(c, { reason: 'cancelled', message: 'Call cancelled', sticky: false });
      return;
    }
    // call_hangup also declines a call still ringing (an accept under way).
    if (id) this.quietly('call_hangup', id);
    const at = c.view.answeredAt;
    this.finish(c, { reason: 'hangup', message: 'Call ended', seconds: at === null ? undefined : Math.round((this.now() - at) / 1000), sticky: false });
  }

  toggleMute() {
    const c = this.cur;
    if (!c || c.done) return;
    this.update(c, { muted: !c.view.muted });
    this.applyTrackState(c);
  }

  toggleCamera() {
    const c = this.cur;
    if (!c || c.done || c.view.media !== 'video') return;
    this.update(c, { cameraOff: !c.view.cameraOff });
    this.applyTrackState(c);
  }

  /** dismiss takes an ended call off the screen. */
  dismiss() {
    const c = this.cur;
    if (!c || !c.done) return;
    this.clearTimers(c);
    this.cur = null;
    this.store.set((s) => ({ ...s, call: null }));
  }

  /**
   * connectionLost ends the call here when the WebSocket goes: the server
   * ends it too ("disconnected") and a reconnected device is not told.
   */
  connectionLost() {
    const c = this.cur;
    if (c && !c.done) {
      if (c.view.phase === 'incoming') this.finish(c, null);
      else this.finish(c, { reason: 'connection', message: 'Call ended: the connection to the server was lost', sticky: false });
    }
    this.dropHeld();
    this.store.set((s) => (s.elsewhere ? { ...s, elsewhere: null } : s));
  }

  /** reset drops every call state here at once (logout). */
  reset() {
    const c = this.cur;
    if (c && !c.done) this.finish(c, null);
    this.dismiss();
    this.dropHeld();
    this.store.set(() => ({ call: null, elsewhere: null }));
  }

  /** stats reads the peer connection's counters (for diagnostics and the browser tests). */
  async stats(): Promise<CallStats> {
    const c = this.cur;
    const out: CallStats = {
      phase: c ? c.view.phase : 'idle',
      callId: c?.callId ?? null,
      connectionState: c?.link.pc?.connectionState ?? this.lastConnectionState,
      everConnected: this.everConnected,
      inboundVideoBytes: 0,
      inboundAudioBytes: 0,
      outboundVideoBytes: 0,
      outboundAudioBytes: 0,
      framesDecoded: 0,
    };
    if (!c?.link.pc) return out;
    await addStats(c.link.pc, out);
    return out;
  }

  // ---- server events ----

  private onCall(ev: CallEvent) {
    const c = this.cur;
    const mine = c && c.callId !== null && c.callId === ev.call_id ? c : null;
    switch (ev.type) {
      case 'ring':
        this.onRing(ev);
        return;
      case 'outgoing':
        this.store.set((s) => ({ ...s, elsewhere: { callId: ev.call_id, conversationId: ev.conversation_id } }));
        return;
      case 'answer':
        if (mine) void this.onAnswer(mine, ev.sdp ?? '');
        else this.maybeEarly(ev);
        return;
      case 'ice': {
        const cand = ev.candidate;
        if (!cand) return;
        const h = this.held.get(ev.call_id);
        if (mine) {
          if (!mine.done) mine.link.addRemote(cand);
        } else if (h) h.ice.push(cand);
        else this.maybeEarly(ev);
        return;
      }
      case 'answered_elsewhere':
        this.unhold(ev.call_id);
        // Another device of mine is in this call now.
        this.store.set((s) => ({ ...s, elsewhere: { callId: ev.call_id, conversationId: ev.conversation_id } }));
        if (mine && !mine.done && mine.view.phase === 'incoming') this.finish(mine, { reason: 'answered_elsewhere', message: 'Answered on another device', sticky: false });
        return;
      case 'ended':
        this.unhold(ev.call_id);
        this.store.set((s) => (s.elsewhere?.callId === ev.call_id ? { ...s, elsewhere: null } : s));
        if (mine) this.onEnded(mine, ev);
        else this.maybeEarly(ev);
        return;
      default:
        return;
    }
  }

  /** maybeEarly keeps an event for the call being placed, whose id the invite's reply has not told yet. */
  private maybeEarly(ev: CallEvent) {
    const c = this.cur;
    if (c && !c.done && c.direction === 'outgoing' && c.callId === null) c.early.push(ev);
  }

  private onRing(ev: CallEvent) {
    const c = this.cur;
    if (c && !c.done) {
      // Busy here. If it is the other side of a glare, it is taken below.
      if (c.direction === 'outgoing' && c.glareWait && c.view.conversationId === ev.conversation_id) return this.adopt(c, ev, []);
      this.hold(ev);
      return;
    }
    this.showRing(ev, []);
  }

  private showRing(ev: CallEvent, ice: IceCandidateJSON[]): Live {
    const ms = ev.timeout_ms && ev.timeout_ms > 0 ? ev.timeout_ms : DEFAULT_RING_MS;
    const peer = ev.from ?? { id: 0, username: '', display_name: 'Someone' };
    const c = this.begin({
      direction: 'incoming',
      phase: 'incoming',
      callId: ev.call_id,
      conversationId: ev.conversation_id,
      peer,
      media: ev.media === 'video' ? 'video' : 'audio',
      screen: 'incoming',
      ringUntil: this.now() + ms,
    });
    c.offer = ev.sdp ?? '';
    for (const cand of ice) c.link.addRemote(cand); // held until the offer is set
    c.timers.push(
      setTimeout(() => {
        // Shown for timeout_ms at most, even if no `ended` comes.
        if (this.alive(c) && c.view.phase === 'incoming') this.finish(c, { reason: 'missed', message: `Missed call from ${nameOf(peer)}`, sticky: false });
      }, ms),
    );
    return c;
  }

  private hold(ev: CallEvent) {
    this.unhold(ev.call_id);
    const timer = setTimeout(() => this.held.delete(ev.call_id), ev.timeout_ms && ev.timeout_ms > 0 ? ev.timeout_ms : DEFAULT_RING_MS);
    this.held.set(ev.call_id, { ev, ice: [], timer });
  }

  private unhold(id: string) {
    const h = this.held.get(id);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(id);
  }

  private dropHeld() {
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
  }

  /**
   * glare: the other person called at the same moment and their call won.
   * Both wanted to talk, so their call is answered here at once with the
   * camera and microphone already on.
   */
  private glare(c: Live) {
    for (const [id, h] of this.held) {
      if (h.ev.conversation_id !== c.view.conversationId) continue;
      this.unhold(id);
      return this.adopt(c, h.ev, h.ice);
    }
    c.glareWait = true;
    this.update(c, { ringing: false });
    c.timers.push(
      setTimeout(() => {
        if (this.alive(c) && c.glareWait) this.finish(c, { reason: 'glare', message: `${nameOf(c.view.peer)} called you at the same moment. Try again.`, sticky: false });
      }, GLARE_WAIT_MS),
    );
  }

  private adopt(c: Live, ev: CallEvent, ice: IceCandidateJSON[]) {
    const stream = c.view.localStream;
    const { muted, cameraOff } = c.view;
    c.done = true;
    this.clearTimers(c);
    c.link.close();
    this.cur = null;
    const n = this.showRing(ev, ice);
    if (stream) {
      if (n.view.media === 'audio') {
        for (const t of stream.getVideoTracks()) {
          t.stop();
          stream.removeTrack(t);
        }
      }
      this.update(n, { localStream: stream, muted, cameraOff, screen: 'call' });
    }
    void this.accept();
  }

  private async onAnswer(c: Live, sdp: string) {
    const pc = c.link.pc;
    if (c.done || c.direction !== 'outgoing' || c.answered || !pc) return;
    c.answered = true;
    this.update(c, { phase: 'connecting', ringing: false, answeredAt: this.now() });
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch {
      if (!this.alive(c)) return;
      this.quietly('call_hangup', c.callId!);
      this.finish(c, { reason: 'failed', message: 'Call ended: the answer could not be used', sticky: true });
      return;
    }
    if (this.alive(c)) c.link.remoteReady();
  }

  private onEnded(c: Live, ev: CallEvent) {
    if (c.done) {
      // Ended here already (hung up): the server's count of seconds is the one recorded.
      const end = c.view.end;
      if (end && end.reason === 'hangup' && typeof ev.seconds === 'number' && this.cur === c) this.update(c, { end: { ...end, seconds: ev.seconds } });
      return;
    }
    if (ev.reason === 'glare') {
      if (c.direction === 'outgoing') return this.glare(c);
      return this.finish(c, null); // their call lost to ours: ours rings on their side
    }
    this.finish(c, endedBy(ev, c, this.d.me()));
  }

  // ---- WebRTC ----

  private async fetchIceServers(): Promise<RTCIceServer[]> {
    try {
      return await this.d.iceServers();
    } catch {
      return []; // host candidates only: enough on one network
    }
  }

  private makePeer(c: Live, iceServers: RTCIceServer[], stream: MediaStream): PeerConnectionLike {
    const pc = this.d.createPeerConnection({ iceServers });
    c.link.attach(pc, stream, () => c.done);
    pc.ontrack = (e) => {
      if (c.done) return;
      let remote = e.streams[0] ?? c.view.remoteStream;
      if (!remote && typeof MediaStream !== 'undefined') remote = new MediaStream();
      if (remote && !e.streams[0] && !remote.getTracks().includes(e.track)) remote.addTrack(e.track);
      this.update(c, { remoteStream: remote ?? null });
    };
    pc.onconnectionstatechange = () => {
      if (c.done) return;
      const st = pc.connectionState;
      this.lastConnectionState = st;
      if (st === 'connected') {
        this.everConnected = true;
        this.update(c, { connectionState: st, phase: 'active', answeredAt: c.view.answeredAt ?? this.now() });
      } else if (st === 'failed') {
        this.update(c, { connectionState: st });
        // The protocol's advice: if the WebRTC connection fails, hang up.
        if (c.callId) this.quietly('call_hangup', c.callId);
        const at = c.view.answeredAt;
        this.finish(c, { reason: 'failed', message: 'Call ended: the connection failed', seconds: at === null ? undefined : Math.round((this.now() - at) / 1000), sticky: false });
      } else this.update(c, { connectionState: st });
    };
    return pc;
  }

  private sendIce(c: Live, cand: IceCandidateJSON) {
    if (c.done || !c.callId) return;
    this.quietly('call_ice', c.callId, { candidate: cand });
  }

  private setStream(c: Live, stream: MediaStream) {
    this.update(c, { localStream: stream });
    this.applyTrackState(c);
  }

  private applyTrackState(c: Live) {
    const s = c.view.localStream;
    if (!s) return;
    for (const t of s.getAudioTracks()) t.enabled = !c.view.muted;
    for (const t of s.getVideoTracks()) t.enabled = !c.view.cameraOff;
  }

  // ---- bookkeeping ----

  private begin(v: Pick<CallView, 'direction' | 'phase' | 'callId' | 'conversationId' | 'peer' | 'media' | 'screen'> & { ringUntil?: number }): Live {
    // An ended call still on screen gives way.
    if (this.cur) {
      this.clearTimers(this.cur);
      this.cur = null;
    }
    this.everConnected = false;
    this.lastConnectionState = 'new';
    const view: CallView = {
      key: this.nextKey++,
      ringing: false,
      answeredAt: null,
      ringUntil: v.ringUntil ?? null,
      muted: false,
      cameraOff: false,
      localStream: null,
      remoteStream: null,
      connectionState: 'new',
      end: null,
      ...v,
    };
    const c: Live = {
      view,
      callId: v.callId,
      direction: v.direction,
      link: new PeerLink((cand) => this.sendIce(c, cand)),
      offer: '',
      answered: false,
      accepting: false,
      glareWait: false,
      done: false,
      early: [],
      timers: [],
    };
    this.cur = c;
    this.store.set((s) => ({ ...s, call: view }));
    return c;
  }

  private alive(c: Live) {
    return this.cur === c && !c.done;
  }

  private update(c: Live, patch: Partial<CallView>) {
    c.view = { ...c.view, ...patch };
    if (this.cur === c) {
      const view = c.view;
      this.store.set((s) => ({ ...s, call: view }));
    }
  }

  private clearTimers(c: Live) {
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
  }

  /** finish ends a call here: media off, peer connection closed; end says what to show (null: nothing). */
  private finish(c: Live, end: CallEnd | null) {
    if (c.done) return;
    c.done = true;
    this.clearTimers(c);
    if (c.link.close() && this.cur === c) this.lastConnectionState = 'closed';
    stopStream(c.view.localStream);
    if (this.cur !== c) return;
    if (!end) {
      this.cur = null;
      this.store.set((s) => ({ ...s, call: null }));
      return;
    }
    this.update(c, { phase: 'ended', end, localStream: null, remoteStream: null, ringUntil: null, connectionState: c.view.connectionState === 'new' ? 'new' : 'closed' });
    if (!end.sticky) c.timers.push(setTimeout(() => this.cur === c && this.dismiss(), ENDED_SHOW_MS));
  }

  /** withdraw cancels an unanswered outgoing call (or hangs up, if it was answered meanwhile). */
  private withdraw(id: string) {
    this.d.request('call_cancel', { call_id: id }).catch((e) => {
      if (errorCode(e) === 'conflict') this.quietly('call_hangup', id);
    });
  }

  private quietly(op: string, callId: string, extra: Record<string, unknown> = {}) {
    this.d.request(op, { call_id: callId, ...extra }).catch(() => {
      /* the call is over here either way */
    });
  }

  /** debugState is the call state without the media streams (for diagnostics). */
  debugState() {
    const { call, elsewhere } = this.store.get();
    if (!call) return { call: null, elsewhere };
    const { localStream, remoteStream, ...rest } = call;
    return { call: { ...rest, hasLocalStream: !!localStream, hasRemoteStream: !!remoteStream }, elsewhere };
  }
}
