// Sign-up and log-in: errors from the server are shown next to the field
// they concern; after logging in the user goes back where they were.
import { useState, type FormEvent, type ReactNode } from 'react';
import { adminApi } from '../api/admin';
import { api, ApiError } from '../api/http';
import { session, signedIn } from '../app';
import { Button, FormError, TextField } from '../components/ui';
import { Link, navigate, safeNext, useLocation } from '../lib/router';
import { useStore } from '../state/store';

type FieldErrors = Record<string, string>;

function split(e: unknown, fields: string[]): { fields: FieldErrors; form?: string } {
  if (e instanceof ApiError) {
    if (e.field && fields.includes(e.field)) return { fields: { [e.field]: e.message } };
    if (e.code === 'rate_limited') return { fields: {}, form: e.retryAfter ? `${e.message} Try again in ${e.retryAfter} s.` : e.message };
    return { fields: {}, form: e.message };
  }
  return { fields: {}, form: 'Something went wrong. Please try again.' };
}

function AuthCard({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  return (
    <main className="flex min-h-full items-center justify-center bg-gradient-to-br from-accent to-accent-hover px-4 py-10">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2 text-white">
          <img src="/favicon.svg" alt="" className="h-9 w-9" />
          <span className="text-2xl font-semibold tracking-tight">Parley</span>
        </div>
        <div className="rounded-2xl bg-surface p-6 shadow-xl sm:p-8">
          <h1 className="mb-6 text-xl font-semibold text-slate-900">{title}</h1>
          {children}
        </div>
        <p className="mt-6 text-center text-sm text-white">{footer}</p>
      </div>
    </main>
  );
}

function useNext(): string {
  const loc = useLocation();
  return safeNext(new URLSearchParams(loc.search).get('next'));
}

export function LoginPage() {
  const next = useNext();
  const notice = useStore(session, (s) => s.notice);
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(undefined);
    const missing: FieldErrors = {};
    if (!login.trim()) missing.login = 'Enter your username or email.';
    if (!password) missing.password = 'Enter your password.';
    setErrors(missing);
    if (Object.keys(missing).length > 0) return;
    setBusy(true);
    try {
      const { user } = await api.login(login.trim(), password);
      signedIn(user);
      navigate(next, { replace: true });
    } catch (err) {
      const s = split(err, ['login', 'password']);
      setErrors(s.fields);
      setFormError(s.form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard
      title="Log in"
      footer={
        <>
          New to Parley?{' '}
          <Link to={next === '/' ? '/signup' : `/signup?next=${encodeURIComponent(next)}`} className="font-semibold text-white underline">
            Create an account
          </Link>
          {' · '}
          <Link to="/about" className="text-white underline">
            About
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        {notice && <p className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-800 ring-1 ring-amber-200">{notice}</p>}
        <TextField label="Username or email" name="login" autoComplete="username" autoCapitalize="none" spellCheck={false} value={login} onChange={(e) => setLogin(e.target.value)} error={errors.login} required autoFocus />
        <TextField label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.password} required />
        <FormError>{formError}</FormError>
        <Button type="submit" className="w-full" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </Button>
      </form>
    </AuthCard>
  );
}

/**
 * signupErrors checks every field at once against the rules the server
 * applies (docs/protocol.md, limits), so all problems show together.
 */
export function signupErrors(username: string, email: string, password: string): FieldErrors {
  const e: FieldErrors = {};
  const u = username.trim();
  if (!u) e.username = 'Choose a username.';
  else if (!/^[A-Za-z0-9_.-]*$/.test(u)) e.username = 'Only letters a–z, digits and _ . - can be used.';
  else if (u.length < 3 || u.length > 32) e.username = u.length < 3 ? 'Use at least 3 characters.' : 'Use at most 32 characters.';
  const m = email.trim();
  if (!m) e.email = 'Enter your email address.';
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(m)) e.email = 'Enter an email address like name@example.com.';
  if (!password) e.password = 'Choose a password.';
  else if ([...password].length < 8) e.password = 'Use at least 8 characters.';
  else if ([...password].length > 128) e.password = 'Use at most 128 characters.';
  return e;
}

export function SignupPage() {
  const next = useNext();
  const { search } = useLocation();
  const invite = new URLSearchParams(search).get('invite') ?? '';
  const policy = useStore(session, (s) => s.features.signup);
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(undefined);
    const invalid = signupErrors(username, email, password);
    setErrors(invalid);
    if (Object.keys(invalid).length > 0) return;
    setBusy(true);
    try {
      await api.signup(username.trim(), email.trim(), password, invite || undefined);
      const { user } = await api.login(username.trim(), password);
      signedIn(user);
      navigate(next, { replace: true });
    } catch (err) {
      const s = split(err, ['username', 'email', 'password']);
      setErrors(s.fields);
      setFormError(s.form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard
      title="Create your account"
      footer={
        <>
          Already have an account?{' '}
          <Link to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} className="font-semibold text-white underline">
            Log in
          </Link>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        {invite ? (
          <p className="rounded-lg bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200" data-testid="invite-note">
            You were invited to this Parley. Choose your username and password.
          </p>
        ) : policy === 'invite' ? (
          <p className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-800 ring-1 ring-amber-200">Sign-up here needs an invitation link: ask someone who is already here for one.</p>
        ) : policy === 'closed' ? (
          <p className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-800 ring-1 ring-amber-200">Sign-up is closed here: an admin of this Parley can create your account.</p>
        ) : null}
        <TextField label="Username" name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} value={username} onChange={(e) => setUsername(e.target.value)} error={errors.username} hint="3–32 characters: a–z, 0–9, _ . -" required autoFocus />
        <TextField label="Email" name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} required />
        <TextField label="Password" name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.password} hint="At least 8 characters" required />
        <FormError>{formError}</FormError>
        <Button type="submit" className="w-full" disabled={busy}>
          {busy ? 'Creating account…' : 'Sign up'}
        </Button>
      </form>
    </AuthCard>
  );
}

/** ResetPasswordPage sets a password with a one-time link an admin made. */
export function ResetPasswordPage() {
  const { search } = useLocation();
  const token = new URLSearchParams(search).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(undefined);
    const n = [...password].length;
    if (n < 8 || n > 128) {
      setError(n < 8 ? 'Use at least 8 characters.' : 'Use at most 128 characters.');
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      await adminApi.resetPassword(token, password);
      setDone(true);
    } catch (err) {
      const s = split(err, ['password']);
      setError(s.fields.password);
      setFormError(s.form ?? (err instanceof ApiError && err.field === 'token' ? err.message : undefined));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard
      title="Set your password"
      footer={
        <Link to="/login" className="font-semibold text-white underline">
          Log in
        </Link>
      }
    >
      {done ? (
        <div className="space-y-4">
          <p role="status" className="text-sm text-slate-700">
            Your password is set. Every other session of your account has ended.
          </p>
          <Button className="w-full" onClick={() => navigate('/login', { replace: true })}>
            Log in
          </Button>
        </div>
      ) : !token ? (
        <FormError>This link is incomplete. Ask an admin for a new one.</FormError>
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate>
          <TextField label="New password" name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} error={error} hint="At least 8 characters" required autoFocus />
          <FormError>{formError}</FormError>
          <Button type="submit" className="w-full" disabled={busy}>
            {busy ? 'Setting…' : 'Set password'}
          </Button>
        </form>
      )}
    </AuthCard>
  );
}
