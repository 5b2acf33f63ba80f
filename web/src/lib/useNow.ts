import { useEffect, useState } from 'react';

/** useNow re-renders every interval while on, and gives the time (ms since epoch). */
export function useNow(on: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const tick = () => setNow(Date.now());
    // Read the clock at once as it starts (the time kept while off is stale).
    const first = setTimeout(tick, 0);
    const t = setInterval(tick, everyMs);
    return () => {
      clearTimeout(first);
      clearInterval(t);
    };
  }, [on, everyMs]);
  return now;
}
