// The call manager's types: what it needs from the app (CallDeps, a peer
// connection), and what it shows (CallsState, CallView, CallEnd, CallStats).
import type { CallMedia, Reply, ServerEvent, UserRef } from '../api/types';

/** The part of RTCPeerConnection the manager uses (a fake in tests). */
export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly localDescription: { type: string; sdp: string } | null;
  onicecandidate: ((ev: { candidate: { candidate: string; toJSON(): RTCIceCandidateInit } | null }) => void) | null;
  ontrack: ((ev: { track: MediaStreamTrack; streams: readonly MediaStream[] }) => void) | null;
  onconnectionstatechange: ((ev?: unknown) => void) | null;
  addTrack(track: MediaStreamTrack, ...streams: MediaStream[]): unknown;
  createOffer(): Promise<RTCSessionDescriptionInit>;
  createAnswer(): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(d: RTCSessionDescriptionInit): Promise<void>;
  setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(c: RTCIceCandidateInit): Promise<void>;
  getStats(): Promise<{ forEach(fn: (s: Record<string, unknown>) => void): void }>;
  close(): void;
}

export interface CallDeps {
  /** Sends one operation over the realtime connection (RealtimeClient.request). */
  request(op: string, fields: Record<string, unknown>): Promise<Reply>;
  /** Hears server events (RealtimeClient.onEvent); returns an unsubscribe. */
  onEvent(listener: (ev: ServerEvent) => void): () => void;
  /** GET /api/v1/calls/ice-servers, fetched for each call. */
  iceServers(): Promise<RTCIceServer[]>;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  createPeerConnection(config: RTCConfiguration): PeerConnectionLike;
  /** The signed-in user's id. */
  me(): number | undefined;
  now?: () => number;
}

export type CallPhase = 'outgoing' | 'incoming' | 'connecting' | 'active' | 'ended';

export interface CallEnd {
  /** The server's reason (declined, missed, hangup, …) or a local one (media, failed, error, connection, answered_elsewhere). */
  reason: string;
  message: string;
  /** How long the call lasted, for answered calls. */
  seconds?: number;
  /** A problem the person must read: it stays until dismissed. */
  sticky: boolean;
}

export interface CallView {
  /** Changes with every call on this device (a React key). */
  key: number;
  phase: CallPhase;
  direction: 'outgoing' | 'incoming';
  callId: string | null;
  conversationId: number;
  peer: UserRef;
  media: CallMedia;
  /** Outgoing: the server took the invite and the other person's devices ring. */
  ringing: boolean;
  /** When the call was answered (ms since epoch): the timer counts from here. */
  answeredAt: number | null;
  /** Incoming: when the ring gives up by itself. */
  ringUntil: number | null;
  /** 'call': the full call screen; 'incoming': the ringing card. */
  screen: 'incoming' | 'call';
  muted: boolean;
  cameraOff: boolean;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  /** RTCPeerConnection.connectionState ('new' before there is one). */
  connectionState: string;
  end: CallEnd | null;
}

export interface CallsState {
  /** The call this device shows: placing, ringing, in progress or just ended. */
  call: CallView | null;
  /** A call of mine that another of my devices is placing or is in. */
  elsewhere: { callId: string; conversationId: number } | null;
}

/** What the browser tests read through window.__parleyCall. */
export interface CallStats {
  phase: CallPhase | 'idle';
  callId: string | null;
  connectionState: string;
  /** The peer connection of the latest call reached "connected". */
  everConnected: boolean;
  inboundVideoBytes: number;
  inboundAudioBytes: number;
  outboundVideoBytes: number;
  outboundAudioBytes: number;
  framesDecoded: number;
}
