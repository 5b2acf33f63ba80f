// Pieces shared by the call screens: media elements, round buttons, a focus trap and the ringtone.
import { forwardRef, useCallback, useEffect, useRef, type ReactNode, type RefObject } from 'react';
import { Icon } from '../ui';

/** StreamVideo shows a MediaStream (srcObject cannot be set as an attribute). */
export function StreamVideo({ stream, muted = false, mirror = false, className = '', testId }: { stream: MediaStream | null; muted?: boolean; mirror?: boolean; className?: string; testId?: string }) {
  const ref = useCallback(
    (el: HTMLVideoElement | null) => {
      if (!el || el.srcObject === stream) return;
      el.srcObject = stream;
      if (stream) el.play?.()?.catch(() => {});
    },
    [stream],
  );
  return <video ref={ref} autoPlay playsInline muted={muted} data-testid={testId} className={`${mirror ? '-scale-x-100' : ''} ${className}`} />;
}

/** RemoteAudio plays the other person's sound (video elements stay muted). */
export function RemoteAudio({ stream }: { stream: MediaStream | null }) {
  const ref = useCallback(
    (el: HTMLAudioElement | null) => {
      if (!el || el.srcObject === stream) return;
      el.srcObject = stream;
      if (stream) el.play?.()?.catch(() => {});
    },
    [stream],
  );
  return <audio ref={ref} autoPlay data-testid="remote-audio" className="hidden" />;
}

type Tone = 'light' | 'dark' | 'danger' | 'accept' | 'pressed';

const tones: Record<Tone, string> = {
  light: 'bg-white/15 text-white hover:bg-white/25',
  dark: 'bg-slate-700 text-white hover:bg-slate-600',
  pressed: 'bg-white text-slate-900 hover:bg-slate-100',
  danger: 'bg-red-600 text-white hover:bg-red-500',
  accept: 'bg-emerald-500 text-white hover:bg-emerald-400',
};

/** RoundButton is a big round icon button with its label written under it. */
export const RoundButton = forwardRef<HTMLButtonElement, { label: string; icon: string; tone: Tone; onClick: () => void; pressed?: boolean; iconClass?: string; testId?: string; children?: ReactNode }>(function RoundButton(
  { label, icon, tone, onClick, pressed, iconClass = '', testId },
  ref,
) {
  return (
    <button
      ref={ref}
      type="button"
      onClick={onClick}
      aria-pressed={pressed}
      data-testid={testId}
      className="group flex flex-col items-center gap-2 rounded-2xl p-1 text-xs font-medium text-white/90 outline-none focus-visible:ring-2 focus-visible:ring-white/80"
    >
      <span aria-hidden="true" className={`flex h-14 w-14 items-center justify-center rounded-full shadow-lg transition group-active:scale-95 ${tones[tone]}`}>
        <Icon d={icon} className={`h-6 w-6 ${iconClass}`} />
      </span>
      <span>{label}</span>
    </button>
  );
});

/**
 * useDialogFocus moves focus into a modal dialog when it opens (to first,
 * when given), keeps Tab inside it, and gives focus back when it closes.
 */
export function useDialogFocus(root: RefObject<HTMLElement | null>, first: RefObject<HTMLElement | null>, key: unknown) {
  const before = useRef<Element | null>(null);
  useEffect(() => {
    before.current = document.activeElement;
    return () => {
      const el = before.current as HTMLElement | null;
      if (el && typeof el.focus === 'function' && document.contains(el)) el.focus();
    };
  }, []);
  useEffect(() => {
    (first.current ?? root.current)?.focus();
  }, [key, first, root]);
  useEffect(() => {
    const el = root.current;
    if (!el) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      const items = [...el.querySelectorAll<HTMLElement>('button:not([disabled]), [href], [tabindex]:not([tabindex="-1"])')];
      if (items.length === 0) return;
      const i = items.indexOf(document.activeElement as HTMLElement);
      if (e.shiftKey && (i <= 0 || i === -1)) {
        e.preventDefault();
        items[items.length - 1].focus();
      } else if (!e.shiftKey && (i === items.length - 1 || i === -1)) {
        e.preventDefault();
        items[0].focus();
      }
    };
    el.addEventListener('keydown', onKey);
    return () => el.removeEventListener('keydown', onKey);
  }, [root]);
}

/** useRingtone plays a soft two-beep ring every few seconds while on (Web Audio; silent where it is not allowed). */
export function useRingtone(on: boolean) {
  useEffect(() => {
    if (!on || typeof window === 'undefined') return;
    const AC = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!AC) return;
    let ctx: AudioContext;
    try {
      ctx = new AC();
    } catch {
      return;
    }
    const beep = (at: number) => {
      const g = ctx.createGain();
      g.gain.setValueAtTime(0, at);
      g.gain.linearRampToValueAtTime(0.06, at + 0.03);
      g.gain.setValueAtTime(0.06, at + 0.35);
      g.gain.linearRampToValueAtTime(0, at + 0.4);
      g.connect(ctx.destination);
      for (const f of [440, 480]) {
        const o = ctx.createOscillator();
        o.frequency.value = f;
        o.connect(g);
        o.start(at);
        o.stop(at + 0.45);
      }
    };
    const ring = () => {
      try {
        beep(ctx.currentTime + 0.05);
        beep(ctx.currentTime + 0.6);
      } catch {
        /* closed */
      }
    };
    ctx.resume?.().catch(() => {});
    ring();
    const t = setInterval(ring, 3000);
    return () => {
      clearInterval(t);
      ctx.close().catch(() => {});
    };
  }, [on]);
}
