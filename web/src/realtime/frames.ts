// A server text frame carries one or more JSON objects separated by "\n".
import type { ServerFrameObject } from '../api/types';

export function splitFrame(data: string, onBadLine?: (line: string) => void): ServerFrameObject[] {
  const out: ServerFrameObject[] = [];
  for (const raw of data.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    try {
      const v = JSON.parse(line);
      if (v && typeof v === 'object') out.push(v as ServerFrameObject);
      else onBadLine?.(line);
    } catch {
      onBadLine?.(line);
    }
  }
  return out;
}
