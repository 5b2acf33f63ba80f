// Notifications from the page: while a tab of the app is open but hidden
// (or its window is in the background), a new message that passes my level
// for its conversation shows a system notification, one per conversation
// (tag conversation-<id>, the same as Web Push uses), replaced as more
// arrive. Never for my own messages, never for a conversation I am looking
// at in a visible tab of the app, and nothing while I use the app in a
// focused tab. Tabs tell each other what they show over a BroadcastChannel.
import type { Conversation, Message, ServerEvent, User } from '../api/types';
import { nameOf } from './format';
import { passes } from './notifyLevel';
import { navigate } from './router';

/** How old a message a sync brings may be and still notify. */
const SYNC_RECENT_MS = 5 * 60_000;

export interface PageNotice {
  title: string;
  body: string;
  tag: string;
  path: string;
}

/** noticeTag is a conversation's notification tag (Web Push uses the same). */
export function noticeTag(conversationId: number): string {
  return `conversation-${conversationId}`;
}

function preview(m: Message): string {
  const t = m.text.replace(/\s+/g, ' ').trim();
  if (t) return t.length > 200 ? t.slice(0, 199) + '…' : t;
  const n = m.attachments?.length ?? 0;
  return n === 0 ? 'New message' : n === 1 ? 'Sent a file' : `Sent ${n} files`;
}

/**
 * pageNotice is the notification for count new messages in a conversation,
 * the newest m: the title names the sender (and the group), the body is the
 * text, or "New message" when I hide message text.
 */
export function pageNotice(conv: Pick<Conversation, 'id' | 'kind' | 'name'>, m: Message, hideText: boolean, count: number): PageNotice {
  // A direct chat is named after the other person, who wrote it (its
  // message events carry no sender names).
  const title = conv.kind === 'group' ? `${conv.name}: ${nameOf(m.sender) ?? 'Someone'}` : conv.name;
  const text = hideText ? 'New message' : preview(m);
  const body = count > 1 ? `${count} new messages${hideText ? '' : `\n${text}`}` : text;
  return { title, body, tag: noticeTag(conv.id), path: `/c/${conv.id}` };
}

/** What a tab tells the others. */
interface TabState {
  tab: string;
  visible: boolean;
  focused: boolean;
  path: string;
  gone?: boolean;
}

export interface PageNotifierDeps {
  conversation: (id: number) => Conversation | undefined;
  me: () => User | null;
  onEvent: (listener: (ev: ServerEvent) => void) => () => void;
}

/**
 * startPageNotifications listens to the realtime client's message events and
 * shows notifications as described above. Returns a stop function.
 */
export function startPageNotifications(deps: PageNotifierDeps): () => void {
  if (typeof window === 'undefined' || !('Notification' in window)) return () => {};
  const tabId = Math.random().toString(36).slice(2);
  const others = new Map<string, TabState>();
  // Messages notified per conversation since I last looked.
  const counts = new Map<number, number>();
  const channel = 'BroadcastChannel' in window ? new BroadcastChannel('parley-tabs') : null;

  const mine = (): TabState => ({ tab: tabId, visible: document.visibilityState === 'visible', focused: document.hasFocus(), path: window.location.pathname });
  const announce = () => channel?.postMessage(mine());
  if (channel)
    channel.onmessage = (e: MessageEvent) => {
      const s = e.data as TabState | { ask: true };
      if ('ask' in s) return announce();
      if (s.gone) others.delete(s.tab);
      else others.set(s.tab, s);
    };
  channel?.postMessage({ ask: true });
  announce();

  const seen = () => {
    // Looking at the app again: start counting afresh.
    if (document.visibilityState === 'visible' && document.hasFocus()) counts.clear();
    announce();
  };
  const gone = () => channel?.postMessage({ ...mine(), gone: true });
  document.addEventListener('visibilitychange', seen);
  window.addEventListener('focus', seen);
  window.addEventListener('blur', announce);
  window.addEventListener('popstate', announce);
  window.addEventListener('pagehide', gone);
  // The router changes the path without an event: look again now and then.
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') announce();
  }, 5000);

  const lookingAt = (id: number): boolean => {
    const path = `/c/${id}`;
    const here = mine();
    if (here.visible && here.path === path) return true;
    for (const t of others.values()) if (t.visible && t.path === path) return true;
    return false;
  };
  const usingApp = (): boolean => {
    const here = mine();
    if (here.visible && here.focused) return true;
    for (const t of others.values()) if (t.visible && t.focused) return true;
    return false;
  };

  // The newest seq this page has seen per conversation: a message comes as a
  // live event, or, after the socket was lost for a while, in a sync.
  const newest = new Map<number, number>();
  const notify = (conversationId: number, msgs: Message[]) => {
    const me = deps.me();
    const conv = deps.conversation(conversationId);
    if (!me || !conv || Notification.permission !== 'granted') return;
    const fresh = msgs.filter((m) => passes(conv, m, me.id));
    if (fresh.length === 0 || usingApp() || lookingAt(conv.id)) return;
    // One tab speaks for all: the hidden tab with the smallest id.
    for (const t of others.values()) if (!t.visible && t.tab < tabId) return;
    const count = (counts.get(conv.id) ?? 0) + fresh.length;
    counts.set(conv.id, count);
    void show(pageNotice(conv, fresh[fresh.length - 1], !!me.hide_notification_text, count), conv.id);
  };
  const off = deps.onEvent((ev) => {
    if (ev.ev === 'message' && ev.change === 'new') {
      const m = ev.message;
      if (m.seq <= (newest.get(m.conversation_id) ?? 0)) return;
      newest.set(m.conversation_id, m.seq);
      notify(m.conversation_id, [m]);
    } else if (ev.ev === 'sync') {
      // Messages a sync brings after a lost connection notify too when they
      // are recent; a conversation's first sync on this page only sets where
      // it stands.
      const id = ev.conversation.id;
      const had = newest.get(id);
      const top = Math.max(had ?? 0, ...ev.messages.map((m) => m.seq));
      newest.set(id, top);
      if (had === undefined) return;
      const recent = Date.now() - SYNC_RECENT_MS;
      notify(
        id,
        ev.messages.filter((m) => m.seq > had && Date.parse(m.created_at) > recent),
      );
    }
  });

  return () => {
    off();
    clearInterval(timer);
    document.removeEventListener('visibilitychange', seen);
    window.removeEventListener('focus', seen);
    window.removeEventListener('blur', announce);
    window.removeEventListener('popstate', announce);
    window.removeEventListener('pagehide', gone);
    gone();
    channel?.close();
  };
}

/**
 * show puts the notification up through the service worker (so clicking it
 * is handled like a push's, and it works where `new Notification` does not),
 * else from the page.
 */
async function show(n: PageNotice, conversationId: number) {
  const options = { body: n.body, tag: n.tag, renotify: true, icon: '/icons/icon-192.png', badge: '/icons/badge-96.png', data: { path: n.path, conversation_id: conversationId } } as NotificationOptions;
  try {
    const reg = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
    if (reg?.active) {
      await reg.showNotification(n.title, options);
      return;
    }
    const shown = new Notification(n.title, options);
    shown.onclick = () => {
      window.focus();
      navigate(n.path);
      shown.close();
    };
  } catch (e) {
    console.warn('notification not shown', e);
  }
}
