// The instance's admin page: figures and the sign-up policy, reported
// messages, invitations and users (docs/protocol.md, "Instance
// administration"). Only admins see it.
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { adminApi, inviteLink, type AdminFigures, type AdminUser, type Invitation, type Report, type ReportAction } from '../api/admin';
import { ApiError } from '../api/http';
import { session } from '../app';
import { Avatar, Button, CopyButton, FormError, Icon, icons, Spinner, TextField } from '../components/ui';
import { formatFull, formatLastSeen, formatWhen, nameOf } from '../lib/format';
import { Link } from '../lib/router';
import { useNow } from '../lib/useNow';
import { useStore } from '../state/store';

const message = (e: unknown) => (e instanceof ApiError ? e.message : 'Something went wrong. Please try again.');

export function AdminPage() {
  const me = useStore(session, (s) => s.user);
  const [figures, setFigures] = useState<AdminFigures>();
  const [error, setError] = useState<string>();
  const refresh = useCallback(() => {
    adminApi.figures().then(setFigures, (e) => setError(message(e)));
  }, []);
  useEffect(() => {
    if (me?.role === 'admin') refresh();
  }, [me?.role, refresh]);
  return (
    <div className="flex min-h-0 flex-1 flex-col bg-surface">
      <header className="flex h-16 shrink-0 items-center gap-2 border-b border-slate-200 px-2 sm:px-4">
        <Link to="/" aria-label="Back to conversations" className="rounded-full p-2 text-slate-600 hover:bg-slate-100 md:hidden">
          <Icon d={icons.back} />
        </Link>
        <h1 className="font-semibold">Admin</h1>
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-3xl space-y-10 p-4 sm:p-8">
          {me?.role !== 'admin' ? (
            <p className="text-sm text-slate-700">Only the admins of this Parley can see this page.</p>
          ) : (
            <>
              <FormError>{error}</FormError>
              <Figures figures={figures} />
              <Reports onChange={refresh} />
              <Invitations />
              <Users meId={me.id} onChange={refresh} />
            </>
          )}
        </div>
      </div>
    </div>
  );
}

function Section({ id, title, children, aside }: { id: string; title: string; children: ReactNode; aside?: ReactNode }) {
  return (
    <section aria-labelledby={id}>
      <div className="mb-4 flex items-center justify-between gap-2">
        <h2 id={id} className="text-lg font-semibold">
          {title}
        </h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

function bytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

const policies = {
  open: 'Open: anyone who reaches this server can sign up.',
  invite: 'Invite: people sign up with an invitation link.',
  closed: 'Closed: only admins create accounts.',
};

function Figures({ figures }: { figures?: AdminFigures }) {
  if (!figures) return <Spinner label="Loading figures" />;
  const st = figures.stats;
  const items: [string, string][] = [
    ['Users', `${st.users}`],
    ['Admins', `${st.admins}`],
    ['Disabled', `${st.disabled}`],
    ['Conversations', `${st.conversations}`],
    ['Groups', `${st.groups}`],
    ['Messages', `${st.messages}`],
    ['Live connections', `${figures.connections}`],
    ['Online now', `${figures.online_users}`],
    ['Database', bytes(st.database_bytes)],
    ['Open reports', `${st.open_reports}`],
  ];
  return (
    <Section id="figures-h" title="This Parley">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-5" data-testid="figures">
        {items.map(([k, v]) => (
          <div key={k} className="rounded-lg bg-slate-50 px-3 py-2 ring-1 ring-slate-200">
            <dt className="text-xs text-slate-600">{k}</dt>
            <dd className="text-lg font-semibold text-slate-900">{v}</dd>
          </div>
        ))}
      </dl>
      <p className="mt-3 text-sm text-slate-700" data-testid="signup-policy">
        Sign-up: {policies[figures.signup]}
        {figures.invites_by_members ? ' Every member may invite people.' : ''} <span className="text-slate-600">(set when the server starts: --signup)</span>
      </p>
    </Section>
  );
}

const actionNames: Record<ReportAction, string> = { delete_message: 'Message deleted', disable_user: 'Sender disabled', dismiss: 'Dismissed' };

function Reports({ onChange }: { onChange: () => void }) {
  const [reports, setReports] = useState<Report[]>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const load = useCallback(() => {
    adminApi.reports('open').then((r) => setReports(r.reports), (e) => setError(message(e)));
  }, []);
  useEffect(load, [load]);
  const act = async (r: Report, action: ReportAction) => {
    setError(undefined);
    try {
      await adminApi.resolveReport(r.id, action);
      setDone(`${actionNames[action]}.`);
      setReports((list) => list?.filter((x) => x.conversation_id !== r.conversation_id || x.seq !== r.seq));
      onChange();
    } catch (e) {
      setError(message(e));
      load();
    }
  };
  return (
    <Section id="reports-h" title="Reported messages">
      <FormError>{error}</FormError>
      {!reports ? (
        <Spinner label="Loading reports" />
      ) : reports.length === 0 ? (
        <p className="text-sm text-slate-600">No reports waiting.</p>
      ) : (
        <ul className="space-y-4">
          {reports.map((r) => (
            <li key={r.id} className="rounded-lg p-4 ring-1 ring-slate-200" data-testid="report">
              <p className="text-sm text-slate-700">
                <strong>{r.reporter ? nameOf(r.reporter) : 'Someone'}</strong> reported a message from <strong>{r.sender ? `${nameOf(r.sender)} (@${r.sender.username})` : 'a deleted account'}</strong>, {formatWhen(r.created_at)}
                {r.reason && <>: “{r.reason}”</>}
              </p>
              <blockquote className="mt-2 whitespace-pre-wrap break-words rounded-md bg-red-50 px-3 py-2 text-sm text-slate-900 ring-1 ring-red-200">{r.text}</blockquote>
              {r.context && r.context.length > 1 && (
                <details className="mt-2 text-sm">
                  <summary className="cursor-pointer text-slate-700">Conversation around it</summary>
                  <ol className="mt-2 space-y-1">
                    {r.context.map((m) => (
                      <li key={m.seq} className={`rounded px-2 py-1 ${m.seq === r.seq ? 'bg-red-50 font-medium' : 'bg-slate-50'}`}>
                        <span className="text-slate-600">{m.sender ? nameOf(m.sender) : 'System'}:</span> {m.deleted_at ? <em>deleted</em> : m.kind === 'system' ? <em>{m.system?.event}</em> : m.text}
                      </li>
                    ))}
                  </ol>
                </details>
              )}
              <div className="mt-3 flex flex-wrap gap-2">
                <Button kind="danger" onClick={() => void act(r, 'delete_message')}>
                  Delete message
                </Button>
                <Button kind="danger" onClick={() => void act(r, 'disable_user')} disabled={!r.sender}>
                  Disable sender
                </Button>
                <Button kind="secondary" onClick={() => void act(r, 'dismiss')}>
                  Dismiss
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {done && (
        <p role="status" className="mt-3 text-sm text-slate-700">
          {done}
        </p>
      )}
    </Section>
  );
}

function Invitations() {
  const [list, setList] = useState<Invitation[]>();
  const [uses, setUses] = useState('1');
  const [days, setDays] = useState('7');
  const [made, setMade] = useState<Invitation>();
  const [error, setError] = useState<string>();
  const load = useCallback(() => {
    adminApi.invitations().then((r) => setList(r.invitations), (e) => setError(message(e)));
  }, []);
  useEffect(load, [load]);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const { invitation } = await adminApi.createInvitation(Number(uses), Number(days) * 24);
      setMade(invitation);
      load();
    } catch (err) {
      setError(message(err));
    }
  };
  const revoke = async (inv: Invitation) => {
    try {
      await adminApi.revokeInvitation(inv.id);
      load();
    } catch (err) {
      setError(message(err));
    }
  };
  const now = useNow(true, 60_000);
  return (
    <Section id="invitations-h" title="Invitations">
      <form onSubmit={create} className="flex flex-wrap items-end gap-3">
        <TextField label="Sign-ups" name="uses" type="number" min={1} max={1000} value={uses} onChange={(e) => setUses(e.target.value)} className="w-28" />
        <div>
          <label htmlFor="invite-days" className="mb-1 block text-sm font-medium text-slate-700">
            Valid for
          </label>
          <select id="invite-days" value={days} onChange={(e) => setDays(e.target.value)} className="block rounded-lg border border-slate-300 bg-surface px-3 py-2 text-base sm:text-sm">
            <option value="1">1 day</option>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>
        </div>
        <Button type="submit">Create invitation</Button>
      </form>
      <FormError>{error}</FormError>
      {made && (
        <div className="mt-3 flex flex-wrap items-center gap-2 rounded-lg bg-emerald-50 p-3 ring-1 ring-emerald-200">
          <span className="text-sm text-emerald-900">New invitation link:</span>
          <code className="min-w-0 flex-1 break-all text-sm" data-testid="invite-link">
            {inviteLink(made.code)}
          </code>
          <CopyButton text={inviteLink(made.code)} label="Copy link" />
        </div>
      )}
      {list && list.length > 0 && (
        <ul className="mt-4 divide-y divide-slate-200 rounded-lg ring-1 ring-slate-200">
          {list.map((inv) => {
            const state = inv.revoked_at ? 'revoked' : Date.parse(inv.expires_at) <= now ? 'expired' : inv.uses >= inv.max_uses ? 'used up' : 'active';
            return (
              <li key={inv.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-sm" data-testid="invitation">
                <span className="font-mono text-xs text-slate-700">{inv.code.slice(0, 8)}…</span>
                <span>
                  {inv.uses}/{inv.max_uses} used
                </span>
                <span className="text-slate-600">until {formatFull(inv.expires_at)}</span>
                {inv.creator && <span className="text-slate-600">by @{inv.creator}</span>}
                <span className={`rounded-full px-2 py-0.5 text-xs ${state === 'active' ? 'bg-emerald-100 text-emerald-900' : 'bg-slate-200 text-slate-800'}`}>{state}</span>
                {state === 'active' && (
                  <span className="ml-auto flex gap-2">
                    <CopyButton text={inviteLink(inv.code)} label="Copy link" />
                    <Button kind="danger" className="px-3 py-1.5" onClick={() => void revoke(inv)}>
                      Revoke
                    </Button>
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}

function Users({ meId, onChange }: { meId: number; onChange: () => void }) {
  const [prefix, setPrefix] = useState('');
  const [users, setUsers] = useState<AdminUser[]>();
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string>();
  const [link, setLink] = useState<{ user: string; url: string }>();
  const [confirm, setConfirm] = useState<number>();
  const page = 50;
  const load = useCallback(
    (after = 0) => {
      adminApi.users(prefix.trim(), after, page).then(
        (r) => {
          setUsers((list) => (after ? [...(list ?? []), ...r.users] : r.users));
          setMore(r.users.length === page);
        },
        (e) => setError(message(e)),
      );
    },
    [prefix],
  );
  useEffect(() => {
    const t = setTimeout(() => load(), 200);
    return () => clearTimeout(t);
  }, [load]);
  const replace = (u: AdminUser) => setUsers((list) => list?.map((x) => (x.id === u.id ? u : x)));
  const run = async (f: () => Promise<void>) => {
    setError(undefined);
    try {
      await f();
      onChange();
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <Section id="users-h" title="Users">
      <CreateAccount
        onCreated={(u, path) => {
          load();
          onChange();
          if (path) setLink({ user: u.username, url: window.location.origin + path });
        }}
      />
      <TextField label="Search users" name="user-search" type="search" placeholder="Username or email" value={prefix} onChange={(e) => setPrefix(e.target.value)} className="mt-6" />
      <FormError>{error}</FormError>
      {link && (
        <div className="mt-3 flex flex-wrap items-center gap-2 rounded-lg bg-emerald-50 p-3 ring-1 ring-emerald-200">
          <span className="text-sm text-emerald-900">One-time link for @{link.user} to set a password (valid 24 hours):</span>
          <code className="min-w-0 flex-1 break-all text-sm" data-testid="reset-link">
            {link.url}
          </code>
          <CopyButton text={link.url} label="Copy link" />
        </div>
      )}
      {!users ? (
        <Spinner label="Loading users" />
      ) : (
        <ul className="mt-4 divide-y divide-slate-200 rounded-lg ring-1 ring-slate-200">
          {users.map((u) => (
            <li key={u.id} className="flex flex-col gap-2 px-3 py-3 sm:flex-row sm:items-center" data-testid="admin-user" data-username={u.username}>
              <div className="flex min-w-0 flex-1 items-center gap-3">
                <Avatar name={nameOf(u)} seed={u.id} size="sm" src={u.avatar_url} />
                <div className="min-w-0">
                  <p className="truncate text-sm font-medium">
                    {nameOf(u)} <span className="font-normal text-slate-600">@{u.username}</span>
                    {u.role === 'admin' && <span className="ml-2 rounded-full bg-brand-50 px-2 py-0.5 text-xs text-brand-800 ring-1 ring-brand-200">admin</span>}
                    {u.disabled_at && <span className="ml-2 rounded-full bg-red-50 px-2 py-0.5 text-xs text-red-800 ring-1 ring-red-200">disabled</span>}
                  </p>
                  <p className="truncate text-xs text-slate-600">
                    {u.email ? `${u.email} · ` : ''}joined {formatWhen(u.created_at ?? '')} · {u.last_seen ? `seen ${formatLastSeen(u.last_seen)}` : 'not seen yet or online'}
                  </p>
                </div>
              </div>
              {u.id !== meId && (
                <div className="flex flex-wrap gap-2">
                  <Button kind="secondary" className="px-3 py-1.5" onClick={() => void run(async () => replace((await adminApi.updateUser(u.id, { admin: u.role !== 'admin' })).user))}>
                    {u.role === 'admin' ? 'Make member' : 'Make admin'}
                  </Button>
                  <Button kind={u.disabled_at ? 'secondary' : 'danger'} className="px-3 py-1.5" onClick={() => void run(async () => replace((await adminApi.updateUser(u.id, { disabled: !u.disabled_at })).user))}>
                    {u.disabled_at ? 'Enable' : 'Disable'}
                  </Button>
                  <Button
                    kind="secondary"
                    className="px-3 py-1.5"
                    onClick={() =>
                      void run(async () => {
                        const r = await adminApi.resetLink(u.id);
                        setLink({ user: u.username, url: window.location.origin + r.reset_path });
                      })
                    }
                  >
                    Reset password
                  </Button>
                  {confirm === u.id ? (
                    <Button
                      kind="danger"
                      className="px-3 py-1.5"
                      onClick={() =>
                        void run(async () => {
                          await adminApi.deleteUser(u.id);
                          setConfirm(undefined);
                          setUsers((list) => list?.filter((x) => x.id !== u.id));
                        })
                      }
                    >
                      Delete @{u.username} for good
                    </Button>
                  ) : (
                    <Button kind="danger" className="px-3 py-1.5" onClick={() => setConfirm(u.id)}>
                      Delete
                    </Button>
                  )}
                </div>
              )}
            </li>
          ))}
          {users.length === 0 && <li className="px-3 py-2 text-sm text-slate-600">No one matches.</li>}
        </ul>
      )}
      {more && users && (
        <Button kind="secondary" className="mt-3" onClick={() => load(users[users.length - 1].id)}>
          More users
        </Button>
      )}
    </Section>
  );
}

function CreateAccount({ onCreated }: { onCreated: (u: AdminUser, resetPath?: string) => void }) {
  const [open, setOpen] = useState(false);
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [admin, setAdmin] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  if (!open)
    return (
      <Button kind="secondary" onClick={() => setOpen(true)}>
        Create an account
      </Button>
    );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(undefined);
    try {
      const r = await adminApi.createUser({ username: username.trim(), email: email.trim() || undefined, admin });
      setUsername('');
      setEmail('');
      setAdmin(false);
      setOpen(false);
      onCreated(r.user, r.reset_path);
    } catch (err) {
      if (err instanceof ApiError && err.field && ['username', 'email'].includes(err.field)) setErrors({ [err.field]: err.message });
      else setFormError(message(err));
    }
  };
  return (
    <form onSubmit={submit} className="space-y-3 rounded-lg p-4 ring-1 ring-slate-200" noValidate>
      <p className="text-sm text-slate-700">The new account gets a one-time link to set its password; give it to its owner.</p>
      <TextField label="Username" name="new-username" autoCapitalize="none" spellCheck={false} value={username} onChange={(e) => setUsername(e.target.value)} error={errors.username} required />
      <TextField label="Email (optional)" name="new-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} className="h-4 w-4 accent-brand-700" />
        Admin of this Parley
      </label>
      <FormError>{formError}</FormError>
      <div className="flex gap-2">
        <Button type="submit">Create</Button>
        <Button kind="ghost" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
