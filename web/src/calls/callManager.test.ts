import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallEvent, IceCandidateJSON, Reply, ServerEvent } from '../api/types';
import { CallManager, ENDED_SHOW_MS, GLARE_WAIT_MS, type PeerConnectionLike } from './callManager';

// ---- fakes ----

class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() {
    this.stopped = true;
  }
}

class FakeStream {
  tracks: FakeTrack[];
  constructor(kinds: ('audio' | 'video')[]) {
    this.tracks = kinds.map((k) => new FakeTrack(k));
  }
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  removeTrack(t: FakeTrack) {
    this.tracks = this.tracks.filter((x) => x !== t);
  }
}

/** FakePC behaves like RTCPeerConnection where the manager can tell: candidates need a remote description. */
class FakePC implements PeerConnectionLike {
  static all: FakePC[] = [];
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  onicecandidate: PeerConnectionLike['onicecandidate'] = null;
  ontrack: PeerConnectionLike['ontrack'] = null;
  onconnectionstatechange: PeerConnectionLike['onconnectionstatechange'] = null;
  tracks: unknown[] = [];
  added: RTCIceCandidateInit[] = [];
  log: string[] = [];
  closed = false;
  constructor(readonly config: RTCConfiguration) {
    FakePC.all.push(this);
  }
  addTrack(track: MediaStreamTrack) {
    this.tracks.push(track);
  }
  async createOffer() {
    return { type: 'offer' as const, sdp: 'v=0 offer' };
  }
  async createAnswer() {
    if (!this.remoteDescription) throw new DOMException('no remote offer', 'InvalidStateError');
    return { type: 'answer' as const, sdp: 'v=0 answer' };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.localDescription = { type: d.type!, sdp: d.sdp! };
    this.log.push(`local:${d.type}`);
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    this.log.push(`remote:${d.type}`);
  }
  async addIceCandidate(c: RTCIceCandidateInit) {
    // Like the browser: a candidate before the remote description is an error.
    if (!this.remoteDescription) throw new DOMException('no remote description', 'InvalidStateError');
    this.added.push(c);
    this.log.push(`ice:${c.candidate}`);
  }
  async getStats() {
    return new Map<string, Record<string, unknown>>([
      ['in-v', { type: 'inbound-rtp', kind: 'video', bytesReceived: 5000, framesDecoded: 30 }],
      ['in-a', { type: 'inbound-rtp', kind: 'audio', bytesReceived: 700 }],
      ['out-v', { type: 'outbound-rtp', kind: 'video', bytesSent: 4000 }],
    ]);
  }
  close() {
    this.closed = true;
    this.connectionState = 'closed';
  }
  // The browser's side.
  gather(candidate: string) {
    const j = { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'uf' };
    this.onicecandidate?.({ candidate: { candidate, toJSON: () => j } });
  }
  gatheringDone() {
    this.onicecandidate?.({ candidate: null });
  }
  state(s: string) {
    this.connectionState = s;
    this.onconnectionstatechange?.();
  }
}

interface Sent {
  op: string;
  fields: Record<string, unknown>;
}

/** FakeServer answers the manager's requests (automatically, or held for the test to answer). */
class FakeServer {
  sent: Sent[] = [];
  listeners = new Set<(ev: ServerEvent) => void>();
  held: { op: string; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  hold = new Set<string>();
  refuse = new Map<string, string>();
  callId = 'n1.abc';

  request = (op: string, fields: Record<string, unknown>): Promise<Reply> => {
    this.sent.push({ op, fields });
    if (this.refuse.has(op)) {
      const code = this.refuse.get(op)!;
      return Promise.reject(Object.assign(new Error(`refused: ${code}`), { code }));
    }
    if (this.hold.has(op)) return new Promise((resolve, reject) => this.held.push({ op, resolve, reject }));
    return Promise.resolve({ re: '1', ok: true, ...(op === 'call_invite' ? { call_id: this.callId } : {}) });
  };
  onEvent = (l: (ev: ServerEvent) => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  emit(ev: Partial<CallEvent> & { type: string }) {
    const full = { ev: 'call', call_id: this.callId, conversation_id: 12, ...ev } as CallEvent;
    for (const l of this.listeners) l(full);
  }
  ops(op: string) {
    return this.sent.filter((s) => s.op === op);
  }
  last(op: string) {
    const l = this.ops(op);
    if (!l.length) throw new Error(`no ${op} sent; sent: ${this.sent.map((s) => s.op).join(',')}`);
    return l[l.length - 1].fields;
  }
  release(op: string, reply: Partial<Reply> = {}) {
    const i = this.held.findIndex((h) => h.op === op);
    if (i < 0) throw new Error(`no held ${op}`);
    const [h] = this.held.splice(i, 1);
    h.resolve({ re: '1', ok: true, ...reply });
  }
}

const alice = { id: 3, username: 'alice', display_name: 'Alice' };
const bob = { id: 5, username: 'bob', display_name: 'Bob' };

let server: FakeServer;
let media: ReturnType<typeof vi.fn>;
let iceServers: ReturnType<typeof vi.fn>;
let calls: CallManager;
let streams: FakeStream[];
let me = 5;

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};
const pc = () => FakePC.all[FakePC.all.length - 1];
const state = () => calls.store.get().call;
const cand = (n: number): IceCandidateJSON => ({ candidate: `candidate:${n} 1 udp 2122260223 192.0.2.${n} 5000${n} typ host`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null });

function ring(over: Partial<CallEvent> = {}) {
  server.emit({ type: 'ring', from: alice, media: 'video', sdp: 'v=0 their offer', timeout_ms: 45_000, ...over });
}

beforeEach(() => {
  vi.useFakeTimers();
  FakePC.all = [];
  streams = [];
  me = 5;
  server = new FakeServer();
  media = vi.fn(async (c: MediaStreamConstraints) => {
    const s = new FakeStream(c.video ? ['audio', 'video'] : ['audio']);
    streams.push(s);
    return s as unknown as MediaStream;
  });
  iceServers = vi.fn(async () => [{ urls: ['stun:stun.example.test:3478'] }]);
  calls = new CallManager({
    request: server.request,
    onEvent: server.onEvent,
    iceServers: iceServers as never,
    getUserMedia: media as never,
    createPeerConnection: (config) => new FakePC(config),
    me: () => me,
  });
  calls.start();
});

afterEach(() => {
  calls.stop();
  vi.useRealTimers();
});

describe('incoming call', () => {
  it('rings, is accepted, connects, and ends when the caller hangs up', async () => {
    ring();
    expect(state()).toMatchObject({ phase: 'incoming', direction: 'incoming', callId: 'n1.abc', media: 'video', screen: 'incoming', peer: alice });
    expect(media).not.toHaveBeenCalled(); // no camera until accepted

    // The caller's candidates come while it rings: held, no peer connection yet.
    server.emit({ type: 'ice', candidate: cand(1) });
    server.emit({ type: 'ice', candidate: cand(2) });

    server.hold.add('call_accept');
    const accepting = calls.accept();
    await flush();
    expect(media).toHaveBeenCalledWith({ audio: true, video: true });
    const p = pc();
    expect(p.config.iceServers).toEqual([{ urls: ['stun:stun.example.test:3478'] }]);
    expect(p.tracks).toHaveLength(2);
    // The offer first, then the held candidates, then the answer.
    expect(p.log.slice(0, 3)).toEqual(['remote:offer', `ice:${cand(1).candidate}`, `ice:${cand(2).candidate}`]);
    expect(p.log).toContain('local:answer');
    expect(server.last('call_accept')).toEqual({ call_id: 'n1.abc', sdp: 'v=0 answer' });
    expect(state()).toMatchObject({ phase: 'connecting', screen: 'call' });

    // Our candidates wait for the accept's reply (the server refuses them before).
    p.gather('candidate:9 1 udp 1 198.51.100.9 9 typ host');
    await flush();
    expect(server.ops('call_ice')).toHaveLength(0);
    server.release('call_accept');
    await accepting;
    expect(server.ops('call_ice').map((s) => s.fields)).toEqual([
      { call_id: 'n1.abc', candidate: { candidate: 'candidate:9 1 udp 1 198.51.100.9 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'uf' } },
    ]);
    p.gatheringDone(); // the null candidate is not sent
    p.gather('candidate:10 1 udp 1 198.51.100.10 10 typ host');
    expect(server.ops('call_ice')).toHaveLength(2);
    expect(state()!.answeredAt).not.toBeNull();

    // A candidate after the answer goes straight in.
    server.emit({ type: 'ice', candidate: cand(3) });
    await flush();
    expect(p.added.map((c) => c.candidate)).toEqual([cand(1).candidate, cand(2).candidate, cand(3).candidate]);

    p.state('connecting');
    expect(state()!.phase).toBe('connecting');
    p.state('connected');
    expect(state()!.phase).toBe('active');
    const stats = await calls.stats();
    expect(stats).toMatchObject({ phase: 'active', connectionState: 'connected', everConnected: true, inboundVideoBytes: 5000, framesDecoded: 30 });

    vi.advanceTimersByTime(7000);
    server.emit({ type: 'ended', reason: 'hangup', by: 3, seconds: 7 });
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'hangup', message: 'Alice ended the call', seconds: 7, sticky: false } });
    expect(p.closed).toBe(true);
    expect(await calls.stats()).toMatchObject({ phase: 'ended', connectionState: 'closed', everConnected: true });
    expect(streams[0].tracks.every((t) => t.stopped)).toBe(true); // camera and microphone off
    expect(state()!.localStream).toBeNull();
    vi.advanceTimersByTime(ENDED_SHOW_MS);
    expect(state()).toBeNull();
  });

  it('stops ringing when another device answers', async () => {
    ring();
    server.emit({ type: 'answered_elsewhere' });
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'answered_elsewhere', message: 'Answered on another device' } });
    expect(calls.store.get().elsewhere).toEqual({ callId: 'n1.abc', conversationId: 12 });
    expect(media).not.toHaveBeenCalled();
    expect(server.sent).toEqual([]); // nothing to say to the server
    await calls.accept(); // too late: nothing happens
    expect(server.sent).toEqual([]);
    vi.advanceTimersByTime(ENDED_SHOW_MS);
    expect(state()).toBeNull();
    server.emit({ type: 'ended', reason: 'hangup', seconds: 30 });
    expect(calls.store.get().elsewhere).toBeNull();
  });

  it('stops ringing when the caller gives up, and after timeout_ms without any word', async () => {
    ring();
    server.emit({ type: 'ended', reason: 'cancelled', by: 3 });
    expect(state()).toMatchObject({ phase: 'ended', end: { message: 'Missed call from Alice' } });

    server.callId = 'n1.second';
    ring({ timeout_ms: 1000 });
    expect(state()).toMatchObject({ phase: 'incoming', callId: 'n1.second' });
    vi.advanceTimersByTime(1000);
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'missed' } });
  });

  it('declines', () => {
    ring();
    calls.decline();
    expect(server.sent).toEqual([{ op: 'call_decline', fields: { call_id: 'n1.abc' } }]);
    expect(state()).toBeNull();
    server.emit({ type: 'ended', reason: 'declined', by: 5 }); // the echo changes nothing
    expect(state()).toBeNull();
  });

  it('declines cleanly when the camera or microphone is refused', async () => {
    media.mockRejectedValueOnce(new DOMException('Permission denied', 'NotAllowedError'));
    ring();
    await calls.accept();
    expect(server.ops('call_accept')).toHaveLength(0);
    expect(server.sent).toEqual([{ op: 'call_decline', fields: { call_id: 'n1.abc' } }]);
    expect(FakePC.all).toHaveLength(0);
    const c = state()!;
    expect(c.phase).toBe('ended');
    expect(c.end).toMatchObject({ reason: 'media', sticky: true });
    expect(c.end!.message).toMatch(/can’t use your camera and microphone.*declined/);
    vi.advanceTimersByTime(60_000);
    expect(state()).not.toBeNull(); // stays until read
    calls.dismiss();
    expect(state()).toBeNull();
  });

  it('gives up the accept when the call ends while the camera starts', async () => {
    let grant!: (s: MediaStream) => void;
    media.mockImplementationOnce(() => new Promise((r) => (grant = r)));
    ring();
    const accepting = calls.accept();
    server.emit({ type: 'ended', reason: 'cancelled', by: 3 });
    const s = new FakeStream(['audio', 'video']);
    grant(s as unknown as MediaStream);
    await accepting;
    expect(s.tracks.every((t) => t.stopped)).toBe(true);
    expect(server.ops('call_accept')).toHaveLength(0);
    expect(FakePC.all).toHaveLength(0);
  });

  it('reports a lost race for the answer', async () => {
    server.refuse.set('call_accept', 'conflict');
    ring();
    await calls.accept();
    expect(state()).toMatchObject({ phase: 'ended', end: { message: 'Answered on another device' } });
    expect(pc().closed).toBe(true);
  });
});

describe('outgoing call', () => {
  it('places a call, holds early candidates both ways, and records the duration', async () => {
    me = 3;
    server.hold.add('call_invite');
    const placing = calls.place(12, bob, 'video');
    expect(state()).toMatchObject({ phase: 'outgoing', direction: 'outgoing', screen: 'call', ringing: false, callId: null });
    await flush();
    const p = pc();
    expect(server.last('call_invite')).toEqual({ conversation_id: 12, media: 'video', sdp: 'v=0 offer' });

    // Candidates start before the reply names the call: held.
    p.gather('candidate:1 1 udp 1 192.0.2.1 1 typ host');
    expect(server.ops('call_ice')).toHaveLength(0);
    server.release('call_invite', { call_id: 'n1.abc' });
    await placing;
    expect(state()).toMatchObject({ callId: 'n1.abc', ringing: true });
    expect(server.ops('call_ice').map((s) => (s.fields.candidate as IceCandidateJSON).candidate)).toEqual(['candidate:1 1 udp 1 192.0.2.1 1 typ host']);

    // The callee's candidates arrive before the answer (different servers): queued.
    server.emit({ type: 'ice', candidate: cand(7) });
    server.emit({ type: 'ice', candidate: cand(8) });
    await flush();
    expect(p.added).toEqual([]);
    server.emit({ type: 'answer', sdp: 'v=0 their answer' });
    await flush();
    expect(p.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 their answer' });
    expect(p.log).toEqual(['local:offer', 'remote:answer', `ice:${cand(7).candidate}`, `ice:${cand(8).candidate}`]);
    expect(state()!.phase).toBe('connecting');

    p.state('connected');
    expect(state()!.phase).toBe('active');
    calls.toggleMute();
    expect(state()!.muted).toBe(true);
    expect(streams[0].getAudioTracks()[0].enabled).toBe(false);
    calls.toggleCamera();
    expect(streams[0].getVideoTracks()[0].enabled).toBe(false);
    calls.toggleCamera();
    expect(streams[0].getVideoTracks()[0].enabled).toBe(true);

    vi.advanceTimersByTime(6_600);
    calls.hangup();
    expect(server.last('call_hangup')).toEqual({ call_id: 'n1.abc' });
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'hangup', seconds: 7 } });
    expect(p.closed).toBe(true);
    // The server's count wins.
    server.emit({ type: 'ended', reason: 'hangup', by: 3, seconds: 6 });
    expect(state()!.end!.seconds).toBe(6);
  });

  it('handles an answer that comes before the invite’s reply', async () => {
    server.hold.add('call_invite');
    const placing = calls.place(12, bob, 'audio');
    await flush();
    server.emit({ type: 'ice', candidate: cand(1) });
    server.emit({ type: 'answer', sdp: 'v=0 quick answer' });
    server.release('call_invite', { call_id: 'n1.abc' });
    await placing;
    await flush();
    expect(pc().log).toEqual(['local:offer', 'remote:answer', `ice:${cand(1).candidate}`]);
    expect(state()!.phase).toBe('connecting');
  });

  it('does not start when the browser refuses the microphone', async () => {
    media.mockRejectedValueOnce(new DOMException('Permission denied', 'NotAllowedError'));
    await calls.place(12, bob, 'audio');
    expect(server.sent).toEqual([]);
    expect(FakePC.all).toHaveLength(0);
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'media', sticky: true } });
    expect(state()!.end!.message).toMatch(/can’t use your microphone/);
  });

  it('says so when there is no camera', async () => {
    media.mockRejectedValueOnce(new DOMException('Requested device not found', 'NotFoundError'));
    await calls.place(12, bob, 'video');
    expect(server.sent).toEqual([]);
    expect(state()!.end!.message).toBe('No camera or microphone was found. Connect one, then try again.');
  });

  it('tells the caller when the callee declines, is busy, or does not answer', async () => {
    await calls.place(12, bob, 'video');
    server.emit({ type: 'ended', reason: 'declined', by: 5 });
    expect(state()).toMatchObject({ phase: 'ended', end: { message: 'Bob declined the call' } });
    expect(streams[0].tracks.every((t) => t.stopped)).toBe(true);

    server.refuse.set('call_invite', 'busy');
    await calls.place(12, bob, 'audio');
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'busy', message: 'Bob is in another call' } });
    server.refuse.clear();

    server.callId = 'n1.third';
    await calls.place(12, bob, 'audio');
    server.emit({ type: 'ended', reason: 'missed' });
    expect(state()).toMatchObject({ phase: 'ended', end: { message: 'No answer' } });
  });

  it('cancels a call hung up before the invite’s reply', async () => {
    server.hold.add('call_invite');
    const placing = calls.place(12, bob, 'audio');
    await flush();
    calls.hangup();
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'cancelled' } });
    expect(server.ops('call_cancel')).toHaveLength(0);
    server.release('call_invite', { call_id: 'n1.abc' });
    await placing;
    expect(server.last('call_cancel')).toEqual({ call_id: 'n1.abc' });
  });

  it('cancels a ringing call, and hangs up if it was answered meanwhile', async () => {
    await calls.place(12, bob, 'audio');
    server.refuse.set('call_cancel', 'conflict');
    calls.hangup();
    await flush();
    expect(server.sent.map((s) => s.op)).toEqual(['call_invite', 'call_cancel', 'call_hangup']);
  });

  it('hangs up when the WebRTC connection fails', async () => {
    await calls.place(12, bob, 'audio');
    server.emit({ type: 'answer', sdp: 'v=0 a' });
    await flush();
    pc().state('failed');
    expect(server.last('call_hangup')).toEqual({ call_id: 'n1.abc' });
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'failed' } });
  });

  it('answers the other person’s call at once after a glare', async () => {
    me = 5; // Bob calls Alice while Alice (smaller id) calls him: hers wins.
    server.refuse.set('call_invite', 'glare');
    server.callId = 'n1.hers';
    await calls.place(12, alice, 'video');
    expect(state()).toMatchObject({ phase: 'outgoing', ringing: false });
    expect(server.ops('call_decline')).toHaveLength(0);
    ring({ sdp: 'v=0 her offer' });
    await flush();
    await flush();
    expect(media).toHaveBeenCalledTimes(1); // the camera already on is used
    expect(FakePC.all).toHaveLength(2);
    expect(FakePC.all[0].closed).toBe(true);
    expect(pc().remoteDescription).toEqual({ type: 'offer', sdp: 'v=0 her offer' });
    expect(server.last('call_accept')).toEqual({ call_id: 'n1.hers', sdp: 'v=0 answer' });
    expect(state()).toMatchObject({ direction: 'incoming', phase: 'connecting', screen: 'call', callId: 'n1.hers' });
  });

  it('takes a ring that came first when the own call then loses the glare', async () => {
    server.callId = 'n1.mine';
    await calls.place(12, alice, 'audio');
    server.callId = 'n1.hers';
    ring({ media: 'audio' }); // held: this device is busy
    expect(state()).toMatchObject({ direction: 'outgoing', callId: 'n1.mine' });
    server.callId = 'n1.mine';
    server.emit({ type: 'ended', reason: 'glare' });
    await flush();
    await flush();
    expect(server.last('call_accept')).toMatchObject({ call_id: 'n1.hers' });
  });

  it('gives up waiting for the winning ring after a while', async () => {
    server.refuse.set('call_invite', 'glare');
    await calls.place(12, alice, 'audio');
    vi.advanceTimersByTime(GLARE_WAIT_MS);
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'glare' } });
  });
});

describe('connection', () => {
  it('ends the call here when the WebSocket is lost', async () => {
    await calls.place(12, bob, 'video');
    calls.connectionLost();
    expect(state()).toMatchObject({ phase: 'ended', end: { reason: 'connection' } });
    expect(pc().closed).toBe(true);
  });

  it('shows that a call goes on on another device', () => {
    server.emit({ type: 'outgoing', to: 5, media: 'audio' });
    expect(calls.store.get().elsewhere).toEqual({ callId: 'n1.abc', conversationId: 12 });
    expect(state()).toBeNull();
    server.emit({ type: 'ended', reason: 'missed' });
    expect(calls.store.get().elsewhere).toBeNull();
  });
});
