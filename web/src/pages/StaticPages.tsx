// About and Not Found.
import type { ReactNode } from 'react';
import { session } from '../app';
import { Link } from '../lib/router';
import { useStore } from '../state/store';

function Page({ children }: { children: ReactNode }) {
  return (
    <main className="min-h-full bg-slate-50">
      <div className="mx-auto max-w-2xl px-4 py-12 sm:py-16">{children}</div>
    </main>
  );
}

export function AboutPage() {
  const signedIn = useStore(session, (s) => s.status === 'in');
  return (
    <Page>
      <div className="mb-6 flex items-center gap-3">
        <img src="/favicon.svg" alt="" className="h-10 w-10" />
        <h1 className="text-3xl font-semibold tracking-tight">About Parley</h1>
      </div>
      <div className="space-y-4 text-slate-700">
        <p>Parley is a messaging service: talk one-to-one and in groups, in real time, with read receipts, typing indicators and presence.</p>
        <ul className="list-disc space-y-1 pl-6">
          <li>Every message has its place: conversations are ordered by the server, never by clocks.</li>
          <li>Nothing is lost offline: messages you write wait and go out when you are back, exactly once.</li>
          <li>Create a group and share its code, or message someone by their username.</li>
        </ul>
        <p>One program serves the app and the API; it runs on a laptop with SQLite or on many machines with PostgreSQL and NATS.</p>
      </div>
      <p className="mt-8">
        <Link to={signedIn ? '/' : '/login'} className="font-medium text-brand-700 underline">
          {signedIn ? 'Back to your conversations' : 'Log in'}
        </Link>
      </p>
    </Page>
  );
}

export function NotFoundPage() {
  return (
    <Page>
      <p className="text-sm font-semibold text-brand-700">404</p>
      <h1 className="mt-2 text-3xl font-semibold tracking-tight">Page not found</h1>
      <p className="mt-4 text-slate-600">There is nothing at this address.</p>
      <p className="mt-8">
        <Link to="/" className="font-medium text-brand-700 underline">
          Go to Parley
        </Link>
      </p>
    </Page>
  );
}
