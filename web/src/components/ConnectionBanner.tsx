// A banner while the realtime connection is down or catching up.
import { chat, client } from '../app';
import { useNow } from '../lib/useNow';
import { useStore } from '../state/store';
import { Icon, icons } from './ui';

export function ConnectionBanner() {
  const conn = useStore(chat, (s) => s.connection);
  const waiting = useStore(chat, (s) => s.outbox.filter((o) => !o.error).length);
  const now = useNow(conn.status === 'offline');

  const down = conn.status === 'offline' || ((conn.status === 'connecting' || conn.status === 'syncing') && (conn.everSynced || conn.attempts > 0));
  if (!down) return null;
  const secs = conn.retryAt ? Math.max(0, Math.ceil((conn.retryAt - now) / 1000)) : 0;
  const offline = conn.status === 'offline';
  return (
    <div role="status" aria-live="polite" data-testid="connection-banner" data-state={offline ? 'offline' : 'reconnecting'} className={`flex flex-wrap items-center justify-center gap-x-3 gap-y-1 px-4 py-2 text-sm ${offline ? 'bg-amber-100 text-amber-900' : 'bg-sky-100 text-sky-900'}`}>
      <Icon d={icons.wifiOff} className="h-4 w-4" />
      <span>{offline ? (secs > 0 ? `You're offline. Reconnecting in ${secs} s…` : "You're offline. Reconnecting…") : 'Reconnecting…'}</span>
      {waiting > 0 && <span className="font-medium">{waiting === 1 ? '1 message waiting to be sent' : `${waiting} messages waiting to be sent`}</span>}
      {offline && (
        <button type="button" onClick={() => client.reconnectNow()} className="rounded-md px-2 py-0.5 font-medium underline hover:bg-amber-200">
          Retry now
        </button>
      )}
    </div>
  );
}
