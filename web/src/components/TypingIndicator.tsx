// "Bob is typing…" under the messages.
import type { Member } from '../api/types';
import { chat } from '../app';
import { nameOf } from '../lib/format';
import { useStore } from '../state/store';

const NONE = {};

export function typingText(userIds: number[], members: Member[] | undefined, direct: boolean): string {
  if (userIds.length === 0) return '';
  if (direct) return 'typing…';
  const names = userIds.map((id) => {
    const m = members?.find((x) => x.user_id === id);
    return m ? nameOf(m) : 'Someone';
  });
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

export function TypingIndicator({ conversationId, direct, peerName }: { conversationId: number; direct: boolean; peerName?: string }) {
  const typing = useStore(chat, (s) => s.typing[conversationId] ?? NONE);
  const members = useStore(chat, (s) => s.members[conversationId]);
  const ids = Object.keys(typing).map(Number);
  const text = direct && ids.length ? `${peerName ?? 'They'} is typing…` : typingText(ids, members, false);
  return (
    <div className="h-6 px-4 text-xs italic text-brand-700 sm:px-6" aria-live="polite" data-testid="typing-indicator">
      {text && (
        <span className="inline-flex items-center gap-1.5 rounded-full bg-surface/90 px-2 py-0.5 shadow-sm">
          <span aria-hidden="true" className="inline-flex gap-0.5">
            <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-brand-500 [animation-delay:-0.3s]" />
            <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-brand-500 [animation-delay:-0.15s]" />
            <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-brand-500" />
          </span>
          {text}
        </span>
      )}
    </div>
  );
}
