// The place for audio/video call buttons in a direct chat's header.
//
// Calls are added by another part of the app: it renders its buttons here,
// given the conversation and the other person. Until then the slot is empty.
// Keep this component's props stable; the call feature owns what it renders.
// It reaches the server through the one WebSocket: client.request(op, fields)
// sends an operation, client.onEvent(listener) hears `call` events.
import type { Conversation, User } from '../api/types';

export interface CallButtonsProps {
  conversation: Conversation;
  peer: User;
}

export function CallButtonsSlot(props: CallButtonsProps) {
  void props;
  return <div data-slot="call-buttons" className="flex items-center gap-1" />;
}
