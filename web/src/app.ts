// The app's singletons: the chat store, the realtime client that fills it,
// and the session (who is signed in).
import { api, ApiError, setUnauthorizedHandler } from './api/http';
import type { Features, User } from './api/types';
import { refreshPushSubscription } from './lib/devicePush';
import { startPageNotifications } from './lib/pageNotify';
import { navigate } from './lib/router';
import { RealtimeClient } from './realtime/client';
import { idbKeeper } from './realtime/uploads';
import { initialChatState } from './state/chat';
import { createStore } from './state/store';

export const chat = createStore(initialChatState());

export interface SessionState {
  status: 'loading' | 'in' | 'out';
  user: User | null;
  features: Features;
  /** Why the last session ended, shown on the login page. */
  notice?: string;
}

export const session = createStore<SessionState>({ status: 'loading', user: null, features: { suggestions: false, calls: false, push: false } });

function wsURL(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/api/v1/ws`;
}

async function sessionValid(): Promise<boolean> {
  try {
    await api.me();
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 401);
  }
}

export const client = new RealtimeClient({
  store: chat,
  url: wsURL(),
  storage: window.localStorage,
  history: (id, q) => api.history(id, q),
  keeper: idbKeeper(),
  checkSession: sessionValid,
  onSessionEnded: () => signedOut('Your session has ended. Please log in again.'),
});

setUnauthorizedHandler(() => signedOut('Your session has ended. Please log in again.'));

// My profile photo changed on another device: show it here too.
client.onEvent((ev) => {
  if (ev.ev !== 'member' || ev.change !== 'profile') return;
  const user = session.get().user;
  if (user && ev.member.user_id === user.id && user.avatar_url !== ev.member.avatar_url) session.set((s) => ({ ...s, user: { ...user, avatar_url: ev.member.avatar_url } }));
});

// The server sets parley_signed_in beside the (HttpOnly) session cookie at
// login: without it, boot does not ask /me, so a signed-out visitor's page
// makes no request that fails (a console error on every load). A 401 or a
// logout drops it.
const SIGNED_IN = 'parley_signed_in';

function maybeSignedIn(): boolean {
  return document.cookie.split(';').some((c) => c.trim().startsWith(SIGNED_IN + '='));
}

function forgetSignedIn() {
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${SIGNED_IN}=; Max-Age=0; Path=/; SameSite=Lax${secure}`;
}

/** boot finds out whether a session cookie is valid and starts from there. */
export async function boot() {
  api.features().then(
    (features) => session.set((s) => ({ ...s, features })),
    () => {},
  );
  if (!maybeSignedIn()) {
    session.set((s) => ({ ...s, status: 'out', user: null }));
    return;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const { user } = await api.me();
      signedIn(user);
      return;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        forgetSignedIn();
        session.set((s) => ({ ...s, status: 'out', user: null }));
        return;
      }
      // The server is unreachable: keep trying, with a short backoff.
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
    }
  }
}

// Notifications from this page while it is hidden (lib/pageNotify.ts), while signed in.
let stopPageNotifications: (() => void) | null = null;

export function signedIn(user: User) {
  session.set((s) => ({ ...s, status: 'in', user, notice: undefined }));
  client.stop();
  chat.set(() => initialChatState());
  client.start(user);
  stopPageNotifications?.();
  stopPageNotifications = startPageNotifications({
    conversation: (id) => chat.get().conversations[id],
    me: () => session.get().user,
    onEvent: (l) => client.onEvent(l),
  });
  void refreshPushSubscription();
}

export function signedOut(notice?: string) {
  forgetSignedIn();
  stopPageNotifications?.();
  stopPageNotifications = null;
  if (session.get().status === 'out') return;
  client.stop();
  chat.set(() => initialChatState());
  session.set((s) => ({ ...s, status: 'out', user: null, notice }));
  const here = window.location.pathname + window.location.search;
  if (!here.startsWith('/login') && !here.startsWith('/signup') && !here.startsWith('/about')) navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
}

export async function logout() {
  // Stop first: the server closes our sockets (4001) as the session ends,
  // which is expected here and not "your session has ended".
  client.stop();
  try {
    await api.logout();
  } catch {
    /* the session is gone either way */
  }
  signedOut();
  navigate('/login', { replace: true });
}

export function updateMe(user: User) {
  session.set((s) => ({ ...s, user }));
  chat.set((s) => ({ ...s, me: user }));
}

// A read-only look at the client's state for debugging (and the browser
// tests' failure reports): `__parleyState()` in the console.
(window as unknown as { __parleyState: () => unknown }).__parleyState = () => chat.get();
