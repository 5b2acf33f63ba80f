// Routes: which page shows for which address, and who may see it.
import { lazy, Suspense, useEffect } from 'react';
import { session } from './app';
import { CallLayer } from './components/calls/CallLayer';
import { Spinner } from './components/ui';
import { matchPath, navigate, safeNext, useLocation } from './lib/router';
import { LoginPage, ResetPasswordPage, SignupPage } from './pages/AuthPages';
import { AboutPage, NotFoundPage } from './pages/StaticPages';
import { useStore } from './state/store';

// The signed-in pages load as their own chunks, so the login page (the first
// visit) runs less script.
const AppShell = lazy(() => import('./components/AppShell').then((m) => ({ default: m.AppShell })));
const EmptyPane = lazy(() => import('./components/AppShell').then((m) => ({ default: m.EmptyPane })));
const ConversationPage = lazy(() => import('./pages/ConversationPage').then((m) => ({ default: m.ConversationPage })));
const NewChatPage = lazy(() => import('./pages/NewChatPage').then((m) => ({ default: m.NewChatPage })));
const SettingsPage = lazy(() => import('./pages/SettingsPage').then((m) => ({ default: m.SettingsPage })));
const AdminPage = lazy(() => import('./pages/AdminPage').then((m) => ({ default: m.AdminPage })));

function Loading({ label }: { label: string }) {
  return (
    <div className="flex h-full items-center justify-center">
      <Spinner label={label} />
    </div>
  );
}

const privateRoutes = ['/', '/c/:id', '/new/:tab', '/settings', '/admin'];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App() {
  const status = useStore(session, (s) => s.status);
  // Calls ring on every page of a signed-in person.
  return (
    <>
      <Suspense fallback={<Loading label="Loading Parley" />}>
        <Routes />
      </Suspense>
      {status === 'in' && <CallLayer />}
    </>
  );
}

function Routes() {
  const { path, search } = useLocation();
  const status = useStore(session, (s) => s.status);

  if (path === '/about') return <AboutPage />;
  if (path === '/reset-password') return <ResetPasswordPage />;

  if (status === 'loading') return <Loading label="Loading Parley" />;

  if (path === '/login' || path === '/signup') {
    if (status === 'in') return <Redirect to={safeNext(new URLSearchParams(search).get('next'))} />;
    return path === '/login' ? <LoginPage /> : <SignupPage />;
  }

  const isPrivate = privateRoutes.some((p) => matchPath(p, path));
  if (!isPrivate) return <NotFoundPage />;
  if (status === 'out') return <Redirect to={`/login?next=${encodeURIComponent(path + search)}`} />;

  const c = matchPath('/c/:id', path);
  if (c) {
    const id = Number(c.id);
    if (!Number.isInteger(id) || id <= 0) return <NotFoundPage />;
    return (
      <AppShell activeId={id} showList={false}>
        <ConversationPage id={id} />
      </AppShell>
    );
  }
  const n = matchPath('/new/:tab', path);
  if (n) {
    if (n.tab !== 'group' && n.tab !== 'join' && n.tab !== 'direct') return <NotFoundPage />;
    return (
      <AppShell activeId={null} showList={false}>
        <NewChatPage tab={n.tab} />
      </AppShell>
    );
  }
  if (path === '/admin')
    return (
      <AppShell activeId={null} showList={false}>
        <AdminPage />
      </AppShell>
    );
  if (path === '/settings')
    return (
      <AppShell activeId={null} showList={false}>
        <SettingsPage />
      </AppShell>
    );
  return (
    <AppShell activeId={null} showList>
      <EmptyPane />
    </AppShell>
  );
}
