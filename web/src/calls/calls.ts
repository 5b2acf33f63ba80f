// The app's call manager: wired to the realtime client (the one WebSocket),
// the REST API for ICE servers, and the browser's camera, microphone and
// RTCPeerConnection.
import { api } from '../api/http';
import { chat, client } from '../app';
import { CallManager, type PeerConnectionLike } from './callManager';

function getUserMedia(c: MediaStreamConstraints): Promise<MediaStream> {
  const md = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
  // Missing outside secure contexts (plain HTTP to another host).
  if (!md?.getUserMedia) return Promise.reject(new DOMException('Media devices are not available here.', 'NotSupportedError'));
  return md.getUserMedia(c);
}

export const calls = new CallManager({
  request: (op, fields) => client.request(op, fields),
  onEvent: (listener) => client.onEvent(listener),
  iceServers: async () => (await api.iceServers()).ice_servers,
  getUserMedia,
  createPeerConnection: (config) => new RTCPeerConnection(config) as unknown as PeerConnectionLike,
  me: () => chat.get().me?.id,
});
calls.start();

// When the WebSocket goes, the server ends the call ("disconnected") and a
// reconnecting device is not told: end it here too. Logging out drops all.
let up = false;
chat.subscribe(() => {
  const st = chat.get().connection.status;
  const now = st === 'online' || st === 'syncing';
  if (up && !now) {
    if (st === 'idle' || st === 'ended') calls.reset();
    else calls.connectionLost();
  }
  up = now;
});

// Leaving the page ends the call: ask first.
window.addEventListener('beforeunload', (e) => {
  const c = calls.store.get().call;
  if (c && c.phase !== 'ended' && c.phase !== 'incoming') e.preventDefault();
});

// Diagnostics for the console and the browser tests:
// `await __parleyCall.stats()` → connection state and media byte counts.
(window as unknown as { __parleyCall: unknown }).__parleyCall = {
  state: () => calls.debugState(),
  stats: () => calls.stats(),
};
