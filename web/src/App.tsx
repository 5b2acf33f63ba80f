// Routes: which page shows for which address, and who may see it.
import { useEffect } from 'react';
import { session } from './app';
import { AppShell, EmptyPane } from './components/AppShell';
import { CallLayer } from './components/calls/CallLayer';
import { Spinner } from './components/ui';
import { matchPath, navigate, safeNext, useLocation } from './lib/router';
import { LoginPage, SignupPage } from './pages/AuthPages';
import { ConversationPage } from './pages/ConversationPage';
import { NewChatPage } from './pages/NewChatPage';
import { SettingsPage } from './pages/SettingsPage';
import { AboutPage, NotFoundPage } from './pages/StaticPages';
import { useStore } from './state/store';

const privateRoutes = ['/', '/c/:id', '/new/:tab', '/settings'];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App() {
  const status = useStore(session, (s) => s.status);
  // Calls ring on every page of a signed-in person.
  return (
    <>
      <Routes />
      {status === 'in' && <CallLayer />}
    </>
  );
}

function Routes() {
  const { path, search } = useLocation();
  const status = useStore(session, (s) => s.status);

  if (path === '/about') return <AboutPage />;

  if (status === 'loading')
    return (
      <div className="flex h-full items-center justify-center">
        <Spinner label="Loading Parley" />
      </div>
    );

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
