// Dates and names as people read them.
import type { User, UserRef } from '../api/types';

// The locale's own form of a time, without a leading zero on the hour (1:18 AM, 13:05).
const time = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

function dayStart(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

function daysAgo(d: Date, now = new Date()): number {
  return Math.round((dayStart(now) - dayStart(d)) / 86_400_000);
}

export function formatTime(iso: string): string {
  return time.format(new Date(iso));
}

export function formatFull(iso: string): string {
  return full.format(new Date(iso));
}

/** formatDay names a day for a date separator: Today, Yesterday, Monday, 3 March 2026. */
export function formatDay(iso: string): string {
  const d = new Date(iso);
  const n = daysAgo(d);
  if (n === 0) return 'Today';
  if (n === 1) return 'Yesterday';
  if (n > 1 && n < 7) return weekday.format(d);
  return longDate.format(d);
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** formatListTime is the short time in the conversation list. */
export function formatListTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const n = daysAgo(d);
  if (n === 0) return time.format(d);
  if (n === 1) return 'Yesterday';
  if (n > 1 && n < 7) return weekday.format(d);
  return shortDate.format(d);
}

export function formatLastSeen(iso: string | null | undefined): string {
  if (!iso) return 'offline';
  const d = new Date(iso);
  const n = daysAgo(d);
  if (n === 0) return `last seen today at ${time.format(d)}`;
  if (n === 1) return `last seen yesterday at ${time.format(d)}`;
  return `last seen ${shortDate.format(d)}`;
}

export function nameOf(u: Pick<User | UserRef, 'display_name' | 'username'> | null | undefined): string {
  if (!u) return 'Someone';
  return u.display_name?.trim() || u.username;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const s = parts.length === 1 ? [...parts[0]].slice(0, 2).join('') : [...parts[0]][0] + [...parts[parts.length - 1]][0];
  return s.toUpperCase();
}

/** formatWhen is a short moment: "today at 14:02", "yesterday at 09:10", "3 Mar, 14:02". */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  const n = daysAgo(d);
  if (n === 0) return `today at ${time.format(d)}`;
  if (n === 1) return `yesterday at ${time.format(d)}`;
  return `${shortDate.format(d)}, ${time.format(d)}`;
}

/** formatStamp is when something happened, for a label after a word: "14:02", "yesterday 09:15" (locale form), "Monday 9:15", "3 Mar, 9:15". */
export function formatStamp(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const n = daysAgo(d, now);
  if (n === 0) return time.format(d);
  if (n === 1) return `yesterday ${time.format(d)}`;
  if (n > 1 && n < 7) return `${weekday.format(d)} ${time.format(d)}`;
  return `${shortDate.format(d)}, ${time.format(d)}`;
}

/** formatDuration is a call's length: 0:07, 12:34, 1:02:03. */
export function formatDuration(totalSeconds: number): string {
  const t = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** describeAgent names a browser and system from a User-Agent ("Chrome on Linux"). */
export function describeAgent(ua: string): string {
  if (!ua) return 'Unknown device';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : ua.split(/[ /]/)[0];
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}
