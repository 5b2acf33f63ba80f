// The place for audio/video call buttons in a direct chat's header.
//
// The call feature (src/calls/, src/components/calls/) renders its buttons
// here, given the conversation and the other person; they show when the
// server has calls on. Keep this component's props stable. Calls reach the
// server through the one WebSocket: client.request(op, fields) sends an
// operation, client.onEvent(listener) hears `call` events.
import type { Conversation, User } from '../api/types';
import { CallButtons } from './calls/CallButtons';

export interface CallButtonsProps {
  conversation: Conversation;
  peer: User;
}

export function CallButtonsSlot({ conversation, peer }: CallButtonsProps) {
  return (
    <div data-slot="call-buttons" className="flex items-center gap-1">
      <CallButtons conversationId={conversation.id} peer={peer} />
    </div>
  );
}
