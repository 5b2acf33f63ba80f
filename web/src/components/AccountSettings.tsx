// The Settings sections of a person's own account: password, blocked
// people, their data and deleting the account.
import { useEffect, useState, type FormEvent } from 'react';
import { accountApi } from '../api/account';
import type { User } from '../api/types';
import { client, session, signedOut } from '../app';
import { nameOf } from '../lib/format';
import { navigate } from '../lib/router';
import { Button, FormError, TextField } from './ui';

function message(e: unknown): string {
  return e instanceof Error ? e.message : 'Something went wrong.';
}

/** PasswordSection changes the password; every other session ends. */
export function PasswordSection() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<{ current_password?: string; new_password?: string; form?: string }>({});
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError({});
    setDone(undefined);
    try {
      const { revoked } = await accountApi.changePassword(current, next);
      setCurrent('');
      setNext('');
      setDone(revoked === 0 ? 'Password changed.' : `Password changed. ${revoked === 1 ? '1 other session was' : `${revoked} other sessions were`} logged out.`);
    } catch (err) {
      const field = (err as { field?: string }).field;
      setError(field === 'current_password' || field === 'new_password' ? { [field]: message(err) } : { form: message(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="password-h">
      <h2 id="password-h" className="mb-4 text-lg font-semibold">
        Password
      </h2>
      <form onSubmit={submit} className="space-y-4">
        <TextField label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} error={error.current_password} required />
        <TextField label="New password" type="password" autoComplete="new-password" value={next} minLength={8} maxLength={128} onChange={(e) => setNext(e.target.value)} error={error.new_password} hint="8 to 128 characters. Your other sessions will be logged out." required />
        <FormError>{error.form}</FormError>
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" disabled={busy}>
            {busy ? 'Changing…' : 'Change password'}
          </Button>
          {done && (
            <span role="status" className="text-sm text-emerald-700">
              {done}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}

/** BlocksSection blocks people by username and lists them to unblock. */
export function BlocksSection() {
  const [blocked, setBlocked] = useState<User[] | null>(null);
  const [username, setUsername] = useState('');
  const [error, setError] = useState<{ username?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);

  const load = () =>
    accountApi.blocks().then(
      ({ users }) => setBlocked(users),
      (e) => setError({ form: message(e) }),
    );
  useEffect(() => {
    void load();
  }, []);

  const block = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError({});
    try {
      await accountApi.block(username.trim().replace(/^@/, ''));
      setUsername('');
      await load();
    } catch (err) {
      setError((err as { field?: string }).field === 'username' ? { username: message(err) } : { form: message(err) });
    } finally {
      setBusy(false);
    }
  };
  const unblock = async (u: User) => {
    setError({});
    try {
      await accountApi.unblock(u.id);
      await load();
    } catch (err) {
      setError({ form: message(err) });
    }
  };

  return (
    <section aria-labelledby="blocked-h">
      <h2 id="blocked-h" className="mb-1 text-lg font-semibold">
        Blocked people
      </h2>
      <p className="mb-4 text-sm text-slate-600">People you block cannot send you direct messages, start a chat with you or call you. They are not told. Groups are not affected.</p>
      <form onSubmit={block} className="flex items-start gap-2">
        <TextField label="Username to block" className="min-w-0 flex-1" value={username} autoComplete="off" spellCheck={false} onChange={(e) => setUsername(e.target.value)} error={error.username} required />
        <Button type="submit" kind="secondary" className="mt-6" disabled={busy}>
          Block
        </Button>
      </form>
      <FormError>{error.form}</FormError>
      {blocked !== null && blocked.length > 0 && (
        <ul className="mt-4 divide-y divide-slate-100 rounded-xl ring-1 ring-slate-200" data-testid="blocked-list">
          {blocked.map((u) => (
            <li key={u.id} className="flex items-center gap-3 px-4 py-3">
              <span className="min-w-0 flex-1">
                <span className="block truncate text-sm font-medium">{nameOf(u)}</span>
                <span className="block truncate text-xs text-slate-600">@{u.username}</span>
              </span>
              <Button kind="ghost" className="px-2 py-1" onClick={() => void unblock(u)} aria-label={`Unblock @${u.username}`}>
                Unblock
              </Button>
            </li>
          ))}
        </ul>
      )}
      {blocked !== null && blocked.length === 0 && <p className="mt-4 text-sm text-slate-600">You block nobody.</p>}
    </section>
  );
}

/** DataSection downloads the account's data and deletes the account. */
export function DataSection() {
  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const remove = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // The server closes our sockets (4001) as the account goes: expected.
      client.stop();
      await accountApi.deleteAccount(password);
      signedOut('Your account has been deleted.');
      navigate('/login', { replace: true });
    } catch (err) {
      setError(message(err));
      setBusy(false);
      const me = session.get().user;
      if (me) client.start(me);
    }
  };

  return (
    <section aria-labelledby="data-h">
      <h2 id="data-h" className="mb-4 text-lg font-semibold">
        Your data
      </h2>
      <p className="text-sm text-slate-600">A zip of your profile, your conversations' messages and their files.</p>
      <a href={accountApi.exportURL} download className="mt-3 inline-flex min-h-11 items-center rounded-lg px-4 py-2 text-sm font-medium text-slate-800 ring-1 ring-slate-300 hover:bg-slate-50">
        Download my data
      </a>
      <div className="mt-8 rounded-xl p-4 ring-1 ring-red-200">
        <h3 className="font-semibold text-red-700">Delete account</h3>
        <p className="mt-1 text-sm text-slate-600">
          You leave every group and are logged out everywhere. Your messages stay in their conversations, shown as from “Deleted account”. Your username becomes free for others after 30 days. This cannot be undone.
        </p>
        {!confirming ? (
          <Button kind="danger" className="mt-4" onClick={() => setConfirming(true)}>
            Delete my account…
          </Button>
        ) : (
          <form onSubmit={remove} className="mt-4 space-y-3">
            <TextField label="Your password, to confirm" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={error} required />
            <div className="flex flex-wrap gap-3">
              <Button type="submit" kind="danger" disabled={busy}>
                {busy ? 'Deleting…' : 'Delete my account for good'}
              </Button>
              <Button type="button" kind="ghost" onClick={() => (setConfirming(false), setPassword(''), setError(undefined))}>
                Cancel
              </Button>
            </div>
          </form>
        )}
      </div>
    </section>
  );
}
