// About and Not Found.
import type { ReactNode } from 'react';
import { session } from '../app';
import { Link } from '../lib/router';
import { useStore } from '../state/store';

function Page({ children }: { children: ReactNode }) {
  return (
    <main className="flex min-h-full items-center justify-center bg-slate-100 px-4 py-10">
      <div className="w-full max-w-xl rounded-2xl bg-surface p-6 shadow-sm ring-1 ring-slate-200 sm:p-10">{children}</div>
    </main>
  );
}

export function AboutPage() {
  const signedIn = useStore(session, (s) => s.status === 'in');
  return (
    <Page>
      <div className="mb-6 flex items-center gap-3">
        <img src="/favicon.svg" alt="" className="h-10 w-10" />
        <h1 className="text-2xl font-semibold tracking-tight sm:text-3xl">About Parley</h1>
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
        <Link to={signedIn ? '/' : '/login'} className="inline-flex min-h-11 items-center rounded-lg bg-accent px-4 font-medium text-white hover:bg-accent-hover">
          {signedIn ? 'Back to your conversations' : 'Log in'}
        </Link>
      </p>
    </Page>
  );
}

export function NotFoundPage() {
  return (
    <Page>
      <div className="text-center">
        <img src="/favicon.svg" alt="" className="mx-auto h-12 w-12" />
        <p className="mt-4 text-sm font-semibold text-brand-700">404</p>
        <h1 className="mt-1 text-2xl font-semibold tracking-tight sm:text-3xl">Page not found</h1>
        <p className="mt-3 text-slate-600">There is nothing at this address.</p>
        <p className="mt-8">
          <Link to="/" className="inline-flex min-h-11 items-center rounded-lg bg-accent px-4 font-medium text-white hover:bg-accent-hover">
            Go to Parley
          </Link>
        </p>
      </div>
    </Page>
  );
}
