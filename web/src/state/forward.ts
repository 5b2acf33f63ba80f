// Forwarding a message: which conversations the dialog offers, and what the
// person is told afterwards.
import type { Conversation, ForwardResult } from '../api/types';

/** The most conversations one forward goes to (docs/protocol.md, Limits). */
export const FORWARD_MAX = 5;

/**
 * forwardChoices is the conversations a forward may go to, in the order
 * given (most recent activity first), those whose name or the other
 * person's username contain query (without regard to case).
 */
export function forwardChoices(convs: Conversation[], query: string): Conversation[] {
  const q = query.trim().toLowerCase();
  if (!q) return convs;
  return convs.filter((c) => c.name.toLowerCase().includes(q) || (c.peer?.username ?? '').toLowerCase().includes(q));
}

/** toggleChoice adds id to the chosen (up to FORWARD_MAX) or takes it out. */
export function toggleChoice(chosen: number[], id: number): number[] {
  if (chosen.includes(id)) return chosen.filter((x) => x !== id);
  return chosen.length >= FORWARD_MAX ? chosen : [...chosen, id];
}

/** listNames joins names as a sentence does: "A", "A and B", "A, B and C". */
function listNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * forwardSummary is what the person is told of a forward: where it went
 * (sent now, or already by an earlier try), and each conversation that
 * refused it with the server's reason.
 */
export function forwardSummary(results: ForwardResult[], name: (id: number) => string): { sent?: string; failed: string[] } {
  const sent = results.filter((r) => !r.error).map((r) => name(r.conversation_id));
  const failed = results.filter((r) => r.error).map((r) => `Not forwarded to ${name(r.conversation_id)}: ${r.error!.message}`);
  return { sent: sent.length ? `Forwarded to ${sent.length > 3 ? `${sent.length} chats` : listNames(sent)}` : undefined, failed };
}
