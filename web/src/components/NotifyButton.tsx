// The conversation header's bell: my notification level for this
// conversation (default / all / mentions only / off) and mute (1 h, 8 h,
// 1 week, always), saved at once (PATCH …/settings). The panel is a small
// dialog of two radio groups: arrows move within a group, Esc closes.
import { useEffect, useId, useRef, useState } from 'react';
import { api } from '../api/http';
import type { Conversation, MuteChoice, NotifyLevel } from '../api/types';
import { chat } from '../app';
import { formatFull, formatTime } from '../lib/format';
import { chosenLevel, defaultLevel, mutedForever, mutedUntil } from '../lib/notifyLevel';
import { upsertConversation } from '../state/chat';
import { Icon } from './ui';

export const bellIcon = 'M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.73 21a2 2 0 0 1-3.46 0';
export const bellOffIcon = 'M13.73 21a2 2 0 0 1-3.46 0M18.63 13A17.89 17.89 0 0 1 18 8M6.26 6.26A5.86 5.86 0 0 0 6 8c0 7-3 9-3 9h14M18 8a6 6 0 0 0-9.33-5M1 1l22 22';

const levels: { value: NotifyLevel; label: string }[] = [
  { value: 'all', label: 'All messages' },
  { value: 'mentions', label: 'Mentions only' },
  { value: 'off', label: 'Off' },
];

const mutes: { value: MuteChoice; label: string }[] = [
  { value: 'off', label: 'Not muted' },
  { value: '1h', label: 'For 1 hour' },
  { value: '8h', label: 'For 8 hours' },
  { value: '1w', label: 'For 1 week' },
  { value: 'always', label: 'Always' },
];

/** mutedText says until when a conversation is muted ("Muted until 14:05"). */
export function mutedText(until: number): string {
  if (mutedForever(until)) return 'Muted';
  const d = new Date(until);
  const sameDay = new Date().toDateString() === d.toDateString();
  return `Muted until ${sameDay ? formatTime(d.toISOString()) : formatFull(d.toISOString())}`;
}

export function NotifyButton({ conv }: { conv: Conversation }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // Which mute the person picked last (the server keeps only the end time).
  const [picked, setPicked] = useState<MuteChoice | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const until = mutedUntil(conv);
  // A choice being saved shows at once.
  const [pending, setPending] = useState<{ level?: NotifyLevel; mute?: MuteChoice }>({});
  const savedLevel = chosenLevel(conv);
  const level = pending.level ?? savedLevel;
  const quiet = until !== null || savedLevel === 'off';
  const muteValue: MuteChoice = pending.mute ?? (until === null ? 'off' : mutedForever(until) ? 'always' : picked && picked !== 'off' && picked !== 'always' ? picked : '1h');

  useEffect(() => {
    if (!open) return;
    panel.current?.querySelector<HTMLInputElement>('input:checked')?.focus();
    const away = (e: Event) => {
      if (!panel.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener('pointerdown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);

  const save = async (patch: { level?: NotifyLevel; mute?: MuteChoice }) => {
    setBusy(true);
    setPending(patch);
    setError(undefined);
    try {
      const { notify } = await api.notifySettings(conv.id, patch);
      chat.set((s) => (s.conversations[conv.id] ? upsertConversation(s, { ...s.conversations[conv.id], notify }) : s));
      if (patch.mute) setPicked(patch.mute);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      setPending({});
    }
  };

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  const defaultText = defaultLevel(conv) === 'all' ? 'all messages' : 'mentions only';
  return (
    <div className="relative">
      <button
        ref={button}
        type="button"
        onClick={() => setOpen((v) => !v)}
        aria-expanded={open}
        aria-haspopup="dialog"
        aria-label={quiet ? `Notifications: ${until !== null ? mutedText(until).toLowerCase() : 'off'}` : 'Notifications'}
        data-testid="notify-button"
        className={`rounded-full p-2 hover:bg-slate-100 ${open ? 'bg-slate-100 text-brand-700' : 'text-slate-600'}`}
      >
        <Icon d={quiet ? bellOffIcon : bellIcon} />
      </button>
      {open && (
        <div
          ref={panel}
          role="dialog"
          aria-labelledby={titleId}
          data-testid="notify-panel"
          className="fixed right-2 top-16 z-50 w-72 max-w-[calc(100vw-16px)] rounded-xl bg-surface p-4 text-sm shadow-lg ring-1 ring-slate-200 sm:absolute sm:top-11 sm:right-0"
        >
          <h2 id={titleId} className="mb-3 font-semibold">
            Notifications for {conv.name}
          </h2>
          <fieldset aria-busy={busy} className="mb-4">
            <legend className="mb-1 font-medium text-slate-700">Notify me of</legend>
            <Radio name={`level-${conv.id}`} checked={level === 'default'} onChange={() => void save({ level: 'default' })} label={`Default (${defaultText})`} />
            {levels.map((l) => (
              <Radio key={l.value} name={`level-${conv.id}`} checked={level === l.value} onChange={() => void save({ level: l.value })} label={l.label} />
            ))}
          </fieldset>
          <fieldset aria-busy={busy}>
            <legend className="mb-1 font-medium text-slate-700">Mute</legend>
            {mutes.map((m) => (
              <Radio key={m.value} name={`mute-${conv.id}`} checked={muteValue === m.value} onChange={() => void save({ mute: m.value })} label={m.label} />
            ))}
          </fieldset>
          <p className="mt-3 text-xs text-slate-600" role="status" data-testid="notify-status">
            {until !== null ? mutedText(until) + '.' : level === 'off' ? 'No notifications.' : ''} {quiet ? 'Unread messages still count.' : ''}
          </p>
          {error && (
            <p role="alert" className="mt-2 text-xs text-red-700">
              {error}
            </p>
          )}
          <button type="button" onClick={close} className="mt-2 min-h-9 w-full rounded-lg text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50">
            Done
          </button>
        </div>
      )}
    </div>
  );
}

function Radio({ name, checked, onChange, label }: { name: string; checked: boolean; onChange: () => void; label: string }) {
  return (
    <label className="flex min-h-9 cursor-pointer items-center gap-2 rounded-md px-1 hover:bg-slate-50">
      <input type="radio" name={name} checked={checked} onChange={onChange} className="accent-brand-700" />
      {label}
    </label>
  );
}
