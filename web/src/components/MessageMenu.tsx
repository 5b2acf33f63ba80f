// The menu of actions on one message (edit, delete; replies, reactions and
// the like add theirs). It opens beside the element it belongs to, flips
// above it when there is no room below in its area (the closest element
// marked data-menu-area: the message list), and is kept inside the viewport; its
// items are at least 44 px tall. Escape, a click outside or scrolling its
// message out of sight closes it (a scroll that leaves the message in sight
// moves the menu with it), and focus goes back to where it was.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

export interface MessageAction {
  key: string;
  label: string;
  /** Shown in red (destructive). */
  danger?: boolean;
  onSelect: () => void;
}

const MARGIN = 8;

interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * placeMenu puts a box of size (w, h) next to the anchor: below it when it
 * fits above the bottom of the area (the message list: not over the
 * composer), else above it, inside the viewport (vw, vh) in any case.
 */
export function placeMenu(anchor: Box, w: number, h: number, vw: number, vh: number, align: 'start' | 'end', area?: Box): { top: number; left: number } {
  const floor = Math.min(vh, area?.bottom ?? vh) - MARGIN;
  const ceiling = Math.max(0, area?.top ?? 0) + MARGIN;
  let top = anchor.bottom + 4;
  if (top + h > floor) top = anchor.top - 4 - h >= ceiling ? anchor.top - 4 - h : floor - h;
  top = Math.max(MARGIN, Math.min(top, vh - MARGIN - h));
  let left = align === 'end' ? anchor.right - w : anchor.left;
  left = Math.max(MARGIN, Math.min(left, vw - MARGIN - w));
  return { top, left };
}

/** inSight tells whether any of el shows inside its menu area (the message list) and the viewport. */
function inSight(el: HTMLElement): boolean {
  if (!el.isConnected) return false;
  const r = el.getBoundingClientRect();
  const area = el.closest('[data-menu-area]')?.getBoundingClientRect();
  const top = Math.max(0, area?.top ?? 0);
  const bottom = Math.min(window.innerHeight, area?.bottom ?? window.innerHeight);
  return r.bottom > top && r.top < bottom;
}

export function MessageMenu({ anchor, align, label, actions, top, children, onClose }: {
  /** The element the menu belongs to (the message's bubble or its button). */
  anchor: HTMLElement;
  align: 'start' | 'end';
  label: string;
  actions: MessageAction[];
  /** Shown above the actions (e.g. a row of quick reactions). */
  top?: ReactNode;
  /** Replaces the actions (e.g. a confirmation). */
  children?: ReactNode;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);

  // Placed beside the anchor, and again whenever the window is resized or
  // the anchor moves: a new message arriving scrolls the list, and the
  // menu follows its message rather than closing under the pointer.
  const place = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const area = anchor.closest('[data-menu-area]')?.getBoundingClientRect();
    setPos(placeMenu(anchor.getBoundingClientRect(), el.offsetWidth, el.offsetHeight, window.innerWidth, window.innerHeight, align, area));
  }, [anchor, align]);
  useLayoutEffect(() => {
    place();
    window.addEventListener('resize', place);
    return () => window.removeEventListener('resize', place);
  }, [place, children]);

  // Focus the first item on open; give focus back on close.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => {
      if (before && document.contains(before)) before.focus();
    };
  }, []);

  useEffect(() => {
    const away = (e: Event) => {
      if (ref.current && !ref.current.contains(e.target as Node) && !anchor.contains(e.target as Node)) onClose();
    };
    // A scroll that takes the message out of sight closes the menu; one
    // that leaves it in sight (new messages, late layout) moves the menu.
    const scrolled = (e: Event) => {
      if (!ref.current || ref.current.contains(e.target as Node)) return;
      if (inSight(anchor)) place();
      else onClose();
    };
    document.addEventListener('pointerdown', away);
    document.addEventListener('scroll', scrolled, true);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('scroll', scrolled, true);
    };
  }, [anchor, onClose, place]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    if (items.length === 0) return;
    const i = items.indexOf(document.activeElement as HTMLElement);
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? items.length - 1 : (i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
    items[next].focus();
  };

  return createPortal(
    <div
      ref={ref}
      role="menu"
      aria-label={label}
      data-testid="message-menu"
      onKeyDown={onKeyDown}
      style={pos ? { top: pos.top, left: pos.left } : { top: 0, left: 0, visibility: 'hidden' }}
      className="fixed z-50 w-56 max-w-[calc(100vw-16px)] overflow-hidden rounded-xl bg-surface py-1 text-[15px] shadow-lg ring-1 ring-slate-200"
    >
      {top}
      {children ??
        actions.map((a) => (
          <MenuItem key={a.key} danger={a.danger} onClick={a.onSelect}>
            {a.label}
          </MenuItem>
        ))}
    </div>,
    document.body,
  );
}

export function MenuItem({ danger, strong, onClick, children }: { danger?: boolean; strong?: boolean; onClick: () => void; children: ReactNode }) {
  return (
    <button
      type="button"
      role="menuitem"
      onClick={onClick}
      className={`flex min-h-11 w-full items-center px-4 text-left focus:outline-none ${strong ? 'font-medium' : ''} ${danger ? 'text-red-700 hover:bg-red-50 focus:bg-red-50' : 'text-slate-800 hover:bg-slate-100 focus:bg-slate-100'}`}
    >
      {children}
    </button>
  );
}
