// The WebRTC side of one call: the media constraints, the peer connection
// and the ICE candidates trickled both ways through call_ice. Ours are held
// until the server knows the call (the caller learns its id from the
// invite's reply; the callee may send only once its accept is acknowledged);
// theirs are held until the remote description is set (they can come before
// the answer).
import type { CallMedia, IceCandidateJSON } from '../api/types';
import type { CallStats, PeerConnectionLike } from './types';

export function constraints(media: CallMedia): MediaStreamConstraints {
  return { audio: true, video: media === 'video' };
}

/** stopStream stops every track of a local stream (camera and microphone off). */
export function stopStream(s: MediaStream | null | undefined) {
  if (!s) return;
  for (const t of s.getTracks()) {
    try {
      t.stop();
    } catch {
      /* already stopped */
    }
  }
}

/** PeerLink holds one call's peer connection and the candidates waiting for it. */
export class PeerLink {
  pc: PeerConnectionLike | null = null;
  private remoteSet = false;
  private remoteQueue: IceCandidateJSON[] = [];
  private localQueue: IceCandidateJSON[] = [];
  private canSend = false;
  /** Sends one of our candidates to the other side (call_ice). */
  private send: (cand: IceCandidateJSON) => void;

  constructor(send: (cand: IceCandidateJSON) => void) {
    this.send = send;
  }

  /** attach takes the call's peer connection and starts handing over our candidates. */
  attach(pc: PeerConnectionLike, stream: MediaStream, ended: () => boolean) {
    this.pc = pc;
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    pc.onicecandidate = (e) => {
      if (ended() || !e.candidate || !e.candidate.candidate) return; // null: gathering is complete
      const j = e.candidate.toJSON();
      const cand: IceCandidateJSON = { candidate: j.candidate ?? '', sdpMid: j.sdpMid ?? null, sdpMLineIndex: j.sdpMLineIndex ?? null, usernameFragment: j.usernameFragment ?? null };
      if (this.canSend) this.send(cand);
      else this.localQueue.push(cand);
    };
  }

  /** sendable: the server knows the call now; our held candidates go. */
  sendable() {
    this.canSend = true;
    const q = this.localQueue;
    this.localQueue = [];
    for (const cand of q) this.send(cand);
  }

  /** remoteReady: the remote description is set; their held candidates are added. */
  remoteReady() {
    this.remoteSet = true;
    const q = this.remoteQueue;
    this.remoteQueue = [];
    for (const cand of q) this.addRemote(cand);
  }

  /** addRemote adds one of their candidates, or holds it until it can be. */
  addRemote(cand: IceCandidateJSON) {
    if (!this.pc || !this.remoteSet) {
      this.remoteQueue.push(cand);
      return;
    }
    this.pc.addIceCandidate(cand).catch(() => {
      /* a candidate the browser cannot use: the others may do */
    });
  }

  /** close closes the peer connection, if any, and reports whether there was one. */
  close(): boolean {
    const pc = this.pc;
    this.pc = null;
    if (!pc) return false;
    pc.onicecandidate = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    try {
      pc.close();
    } catch {
      /* already closed */
    }
    return true;
  }
}

/** addStats adds a peer connection's media counters to out. */
export async function addStats(pc: PeerConnectionLike, out: CallStats): Promise<void> {
  const report = await pc.getStats();
  report.forEach((s) => {
    const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.inboundVideoBytes += n('bytesReceived');
      out.framesDecoded += n('framesDecoded');
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') out.inboundAudioBytes += n('bytesReceived');
    else if (s.type === 'outbound-rtp' && s.kind === 'video') out.outboundVideoBytes += n('bytesSent');
    else if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outboundAudioBytes += n('bytesSent');
  });
}
