// Reactions on a message: the chips under its bubble (emoji, count; press to
// add or take back yours; who reacted on hover, or a long press on touch),
// the quick row of six in the message's menu, and the full picker.
import { useEffect, useLayoutEffect, useRef, useState, type PointerEvent } from 'react';
import { createPortal } from 'react-dom';
import type { Reaction } from '../api/types';
import { whoReacted } from '../state/convo';
import { EmojiPicker } from './EmojiPicker';
import { MessageMenu, placeMenu } from './MessageMenu';
import { Icon, icons } from './ui';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

const LONG_PRESS_MS = 500;

/** mineOf lists the emoji of a message's reactions that are mine. */
export function mineOf(reactions: Reaction[] | undefined, meId?: number): Set<string> {
  return new Set((reactions ?? []).filter((r) => meId !== undefined && r.users.includes(meId)).map((r) => r.emoji));
}

/** ReactionChips are a message's reactions, under its bubble. */
export function ReactionChips({ reactions, meId, name, mine, onToggle }: { reactions: Reaction[]; meId?: number; name: (id: number) => string; mine: boolean; onToggle: (emoji: string, on: boolean) => void }) {
  const [who, setWho] = useState<{ anchor: HTMLElement; reaction: Reaction } | null>(null);
  const press = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pressed = useRef(false);
  const cancel = () => {
    if (press.current) clearTimeout(press.current);
    press.current = null;
  };
  useEffect(() => cancel, []);
  return (
    <div className={`-mt-1 flex flex-wrap gap-1 px-1 ${mine ? 'justify-end' : 'justify-start'}`} data-testid="reactions">
      {reactions.map((r) => {
        const own = meId !== undefined && r.users.includes(meId);
        const names = whoReacted(r.users, r.count, name, meId);
        const onPointerDown = (e: PointerEvent<HTMLButtonElement>) => {
          pressed.current = false;
          if (e.pointerType !== 'touch') return;
          const el = e.currentTarget;
          press.current = setTimeout(() => {
            pressed.current = true;
            setWho({ anchor: el, reaction: r });
          }, LONG_PRESS_MS);
        };
        return (
          <button
            key={r.emoji}
            type="button"
            data-testid="reaction"
            data-emoji={r.emoji}
            aria-pressed={own}
            aria-label={`${r.emoji} ${r.count}: ${names}`}
            title={names}
            onPointerDown={onPointerDown}
            onPointerUp={cancel}
            onPointerLeave={cancel}
            onPointerCancel={cancel}
            onContextMenu={(e) => {
              e.preventDefault();
              setWho({ anchor: e.currentTarget, reaction: r });
            }}
            onClick={() => {
              // A long press showed who reacted: that is not a toggle.
              if (pressed.current) return void (pressed.current = false);
              onToggle(r.emoji, !own);
            }}
            className={`inline-flex h-7 items-center gap-1 rounded-full px-2 text-sm shadow-sm ring-1 pointer-coarse:h-9 ${own ? 'bg-brand-50 ring-brand-500 text-brand-800' : 'bg-surface ring-slate-200 text-slate-700'} hover:brightness-95`}
          >
            <span className="leading-none">{r.emoji}</span>
            <span className="text-xs font-semibold tabular-nums">{r.count}</span>
          </button>
        );
      })}
      {who && (
        <MessageMenu anchor={who.anchor} align={mine ? 'end' : 'start'} label={`Reacted with ${who.reaction.emoji}`} actions={[]} onClose={() => setWho(null)}>
          <div className="px-4 py-2" data-testid="reaction-people">
            <p className="text-xs font-semibold text-slate-600">
              {who.reaction.emoji} {who.reaction.count}
            </p>
            <ul className="mt-1 text-sm text-slate-800">
              {[...who.reaction.users].map((u) => (
                <li key={u} className="py-0.5">
                  {u === meId ? 'You' : name(u)}
                </li>
              ))}
              {who.reaction.count > who.reaction.users.length && <li className="py-0.5 text-slate-600">and {who.reaction.count - who.reaction.users.length} more</li>}
            </ul>
          </div>
        </MessageMenu>
      )}
    </div>
  );
}

/** QuickReactions is the row of six at the top of a message's menu, and a way to the full picker. */
export function QuickReactions({ mine, onPick, onMore }: { mine: Set<string>; onPick: (emoji: string, on: boolean) => void; onMore: () => void }) {
  return (
    <div className="flex items-center justify-between gap-0.5 border-b border-slate-200 px-1 pb-1" data-testid="quick-reactions">
      {QUICK_REACTIONS.map((e) => (
        <button
          key={e}
          type="button"
          role="menuitem"
          aria-label={mine.has(e) ? `Take back ${e}` : `React with ${e}`}
          onClick={() => onPick(e, !mine.has(e))}
          className={`flex h-11 w-8 items-center justify-center rounded-full text-xl hover:bg-slate-100 focus:bg-slate-100 focus:outline-none ${mine.has(e) ? 'bg-brand-50 ring-1 ring-brand-500' : ''}`}
        >
          {e}
        </button>
      ))}
      <button type="button" role="menuitem" aria-label="More reactions" onClick={onMore} className="flex h-11 w-8 items-center justify-center rounded-full text-slate-600 hover:bg-slate-100 focus:bg-slate-100 focus:outline-none">
        <Icon d={icons.plus} className="h-5 w-5" />
      </button>
    </div>
  );
}

/** ReactionPicker is the full emoji picker for a reaction, beside the message. */
export function ReactionPicker({ anchor, align, onPick, onClose }: { anchor: HTMLElement; align: 'start' | 'end'; onPick: (emoji: string) => void; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setPos(placeMenu(anchor.getBoundingClientRect(), el.offsetWidth, el.offsetHeight, window.innerWidth, window.innerHeight, align));
  }, [anchor, align]);
  useEffect(() => {
    const away = (e: Event) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [onClose]);
  return createPortal(
    <div ref={ref} className="fixed z-50 w-[min(22rem,calc(100vw-16px))]" style={pos ?? { top: 0, left: 0, visibility: 'hidden' }} data-testid="reaction-picker">
      <EmojiPicker className="w-full" onPick={onPick} onClose={onClose} />
    </div>,
    document.body,
  );
}
