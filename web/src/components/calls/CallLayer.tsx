// What the call manager shows over any page: the ringing card, the call
// screen, or a note that a call goes on on another device.
import { calls } from '../../calls/calls';
import { useStore } from '../../state/store';
import { Icon, icons } from '../ui';
import { CallScreen } from './CallScreen';
import { IncomingCallScreen } from './IncomingCallScreen';

export function CallLayer() {
  const call = useStore(calls.store, (s) => s.call);
  const elsewhere = useStore(calls.store, (s) => s.elsewhere);
  if (call) return call.screen === 'incoming' ? <IncomingCallScreen key={call.key} call={call} /> : <CallScreen key={call.key} call={call} />;
  if (elsewhere)
    return (
      <div role="status" className="pointer-events-none fixed inset-x-0 top-2 z-40 flex justify-center" data-testid="call-elsewhere">
        <span className="inline-flex items-center gap-2 rounded-full bg-emerald-700 px-4 py-1.5 text-xs font-medium text-white shadow-lg">
          <Icon d={icons.phone} className="h-3.5 w-3.5" />
          In a call on another device
        </span>
      </div>
    );
  return null;
}
