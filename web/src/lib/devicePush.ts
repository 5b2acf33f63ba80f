// Notifications on this device: the browser's permission and its Web Push
// subscription, registered with the server (docs/protocol.md, "Web Push").
// Permission is asked only when the person clicks to turn notifications on.
import { api } from '../api/http';
import { describeAgent } from './format';

export type DevicePushState =
  /** No Notification API here (or not a secure context). */
  | 'unsupported'
  /** The person (or the browser) said no: only the browser's settings can change it. */
  | 'denied'
  /** Not asked yet, or asked and dismissed. */
  | 'off'
  /** Permission given: notifications from open tabs; push when subscribed. */
  | 'on';

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window && window.isSecureContext !== false;
}

export function pushSupported(): boolean {
  return notificationsSupported() && 'serviceWorker' in navigator && 'PushManager' in window;
}

export function devicePermission(): DevicePushState {
  if (!notificationsSupported()) return 'unsupported';
  const p = Notification.permission;
  return p === 'granted' ? 'on' : p === 'denied' ? 'denied' : 'off';
}

/** base64url (no padding) to bytes: the VAPID key as pushManager.subscribe takes it. */
export function base64urlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function registration(): Promise<ServiceWorkerRegistration | null> {
  if (!('serviceWorker' in navigator)) return null;
  // The worker registers at start (lib/pwa.ts); wait for it, but not forever.
  return Promise.race([navigator.serviceWorker.ready, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
}

/** currentEndpoint is this browser's push subscription's endpoint, if it has one. */
export async function currentEndpoint(): Promise<string | null> {
  if (!pushSupported()) return null;
  const reg = await registration();
  const sub = await reg?.pushManager.getSubscription();
  return sub?.endpoint ?? null;
}

export interface EnableResult {
  state: DevicePushState;
  /** Push to this device when no tab is open is set up. */
  subscribed: boolean;
  /** Why push could not be set up (notifications from open tabs still work). */
  problem?: string;
}

/**
 * enableNotifications asks for permission (call it from a click) and, when
 * the server sends Web Push, subscribes this browser and registers the
 * subscription with the server under this device's label.
 */
export async function enableNotifications(serverPush: boolean): Promise<EnableResult> {
  if (!notificationsSupported()) return { state: 'unsupported', subscribed: false };
  const answer = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  if (answer !== 'granted') return { state: answer === 'denied' ? 'denied' : 'off', subscribed: false };
  if (!serverPush) return { state: 'on', subscribed: false, problem: 'This server does not send push notifications, so they show only while Parley is open.' };
  if (!pushSupported()) return { state: 'on', subscribed: false, problem: 'This browser cannot receive push notifications; they show only while Parley is open.' };
  try {
    const reg = await registration();
    if (!reg) throw new Error('no service worker');
    let sub = await reg.pushManager.getSubscription();
    const key = await api.pushKey();
    if (sub && !sameKey(sub, key)) {
      // Subscribed under an older server key (a rotation): start again.
      await sub.unsubscribe();
      sub = null;
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlToBytes(key) });
    const json = sub.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
    await api.addPushSubscription(json, describeAgent(navigator.userAgent));
    return { state: 'on', subscribed: true };
  } catch (e) {
    const why = e instanceof Error && e.message ? e.message : 'unknown error';
    return { state: 'on', subscribed: false, problem: `Push could not be set up on this device (${why}); notifications show only while Parley is open.` };
  }
}

function sameKey(sub: PushSubscription, key: string): boolean {
  const k = sub.options?.applicationServerKey;
  if (!k) return true;
  const a = new Uint8Array(k);
  const b = base64urlToBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** unsubscribeHere ends this browser's push subscription (the server's record is removed by the caller). */
export async function unsubscribeHere(): Promise<void> {
  if (!pushSupported()) return;
  const reg = await registration();
  const sub = await reg?.pushManager.getSubscription();
  await sub?.unsubscribe();
}

/**
 * refreshPushSubscription registers this browser's subscription again when
 * the app starts (docs/protocol.md: the keys may have changed, and
 * last_used moves on), subscribing anew under a rotated server key. It asks
 * for nothing: without permission or a subscription it does nothing.
 */
export async function refreshPushSubscription(): Promise<void> {
  if (!pushSupported() || Notification.permission !== 'granted') return;
  try {
    const reg = await registration();
    const sub = await reg?.pushManager.getSubscription();
    if (!reg || !sub) return;
    const { push } = await api.features();
    if (!push) return;
    await enableNotifications(true);
  } catch {
    /* tried again at the next start */
  }
}
