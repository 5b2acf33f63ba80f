// Settings → Notifications: turning notifications on for this device (the
// browser asks for permission only on that click), the devices that get push
// notifications with "Remove", and hiding message text in notifications.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/http';
import type { PushSubscriptionInfo } from '../api/types';
import { session, updateMe } from '../app';
import { currentEndpoint, devicePermission, enableNotifications, unsubscribeHere, type DevicePushState } from '../lib/devicePush';
import { formatWhen } from '../lib/format';
import { useStore } from '../state/store';
import { Button, FormError } from './ui';

export function NotificationSettings() {
  const serverPush = useStore(session, (s) => s.features.push);
  const [state, setState] = useState<DevicePushState>(devicePermission);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<string>();
  const [subs, setSubs] = useState<PushSubscriptionInfo[] | null>(null);
  const [here, setHere] = useState<string | null>(null);

  const load = useCallback(
    () =>
      Promise.all([currentEndpoint().catch(() => null), serverPush ? api.pushSubscriptions().then((r) => r.subscriptions) : Promise.resolve(null)]).then(
        ([endpoint, list]) => {
          setHere(endpoint);
          if (list) setSubs(list);
        },
        (e: Error) => setError(e.message),
      ),
    [serverPush],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const subscribedHere = !!here && !!subs?.some((s) => s.endpoint === here);

  const turnOn = async () => {
    setBusy(true);
    setError(undefined);
    setProblem(undefined);
    try {
      const r = await enableNotifications(serverPush);
      setState(r.state);
      setProblem(r.problem);
      await load();
    } finally {
      setBusy(false);
    }
  };

  const remove = async (s: PushSubscriptionInfo) => {
    setError(undefined);
    try {
      await api.deletePushSubscription(s.id);
      if (s.endpoint === here) await unsubscribeHere().catch(() => {});
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="notifications-h">
      <h2 id="notifications-h" className="mb-4 text-lg font-semibold">
        Notifications
      </h2>
      <div className="space-y-4">
        <div className="flex flex-wrap items-center gap-3 rounded-xl px-4 py-3 ring-1 ring-slate-200">
          <span className="min-w-0 flex-1">
            <span className="block text-sm font-medium">Notifications on this device</span>
            <span className="block text-xs text-slate-600" data-testid="device-notifications-state">
              {state === 'unsupported'
                ? 'This browser cannot show notifications.'
                : state === 'denied'
                  ? 'Blocked in this browser’s site settings.'
                  : state === 'off'
                    ? 'Off. Your browser will ask for permission.'
                    : subscribedHere
                      ? 'On, also when Parley is closed.'
                      : 'On while Parley is open.'}
            </span>
          </span>
          {(state === 'off' || (state === 'on' && serverPush && !subscribedHere)) && (
            <Button onClick={() => void turnOn()} disabled={busy}>
              {busy ? 'Turning on…' : state === 'off' ? 'Turn on' : 'Also when closed'}
            </Button>
          )}
        </div>
        {problem && (
          <p role="status" className="text-sm text-amber-800">
            {problem}
          </p>
        )}
        <HideTextToggle />
        {serverPush && (
          <div>
            <h3 className="mb-2 text-sm font-medium text-slate-700">Devices that get push notifications</h3>
            <FormError>{error}</FormError>
            {subs === null ? (
              <p className="text-sm text-slate-600">Loading…</p>
            ) : subs.length === 0 ? (
              <p className="text-sm text-slate-600" data-testid="push-devices-empty">
                None yet.
              </p>
            ) : (
              <ul className="divide-y divide-slate-100 rounded-xl ring-1 ring-slate-200" data-testid="push-devices">
                {subs.map((s) => (
                  <li key={s.id} className="flex items-center gap-3 px-4 py-3">
                    <span className="min-w-0 flex-1">
                      <span className="block truncate text-sm font-medium">
                        {s.label || 'Unnamed device'}
                        {s.endpoint === here && <span className="ml-2 rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700">This device</span>}
                      </span>
                      <span className="block truncate text-xs text-slate-600">added {formatWhen(s.created_at)}</span>
                    </span>
                    <Button kind="ghost" className="px-2 py-1 text-red-700" onClick={() => void remove(s)} aria-label={`Remove ${s.label || 'unnamed device'} (added ${formatWhen(s.created_at)})`}>
                      Remove
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

/** HideTextToggle: notifications say "New message" instead of the text (saved at once, for every device). */
function HideTextToggle() {
  const saved = useStore(session, (s) => !!s.user?.hide_notification_text);
  // The choice being saved shows at once.
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState<string>();
  const hidden = pending ?? saved;
  const change = async (on: boolean) => {
    setPending(on);
    setError(undefined);
    try {
      const { user } = await api.updateMe({ hide_notification_text: on });
      updateMe(user);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setPending(null);
    }
  };
  return (
    <div>
      <label className="flex items-start gap-3">
        <input type="checkbox" checked={hidden} onChange={(e) => void change(e.target.checked)} className="mt-1 h-4 w-4 rounded border-slate-300 text-brand-700 focus:ring-brand-500" />
        <span>
          <span className="block text-sm font-medium">Hide message text in notifications</span>
          <span className="block text-xs text-slate-600">Notifications say “New message” instead of what was written. Applies to all your devices.</span>
        </span>
      </label>
      <FormError>{error}</FormError>
    </div>
  );
}
