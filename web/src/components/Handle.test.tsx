// Wherever a person is identified, their @username stands beside their
// display name, so that two people with look-alike names are told apart.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { CallView } from '../calls/callManager';
import { CallScreen } from './calls/CallScreen';
import { IncomingCallScreen } from './calls/IncomingCallScreen';

const call: CallView = {
  key: 1,
  phase: 'incoming',
  direction: 'incoming',
  callId: 'n1.abc',
  conversationId: 7,
  peer: { id: 9, username: 'mallory', display_name: 'alice' },
  media: 'video',
  ringing: true,
  answeredAt: null,
  ringUntil: null,
  screen: 'incoming',
  muted: false,
  cameraOff: false,
  localStream: null,
  remoteStream: null,
  connectionState: 'new',
  end: null,
};

describe('@username beside display names', () => {
  it('shows the caller’s username on the ringing card', () => {
    const html = renderToStaticMarkup(<IncomingCallScreen call={call} />);
    expect(html).toContain('alice');
    expect(html).toContain('@mallory');
  });

  it('shows the other person’s username on the call screen', () => {
    const html = renderToStaticMarkup(<CallScreen call={{ ...call, screen: 'call', phase: 'active', answeredAt: Date.now() }} />);
    expect(html).toContain('@mallory');
  });
});
