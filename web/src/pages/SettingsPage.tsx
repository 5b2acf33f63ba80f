// My profile and settings, and my sessions.
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/http';
import type { Session } from '../api/types';
import { logout, session, updateMe } from '../app';
import { BlocksSection, DataSection, PasswordSection } from '../components/AccountSettings';
import { InviteSection } from '../components/InviteSection';
import { NotificationSettings } from '../components/NotificationSettings';
import { PhotoControl } from '../components/PhotoPicker';
import { Button, FormError, Icon, icons, TextField } from '../components/ui';
import { describeAgent, formatWhen, nameOf } from '../lib/format';
import { Link } from '../lib/router';
import { setThemeChoice, useThemeChoice, type ThemeChoice } from '../lib/theme';
import { useStore } from '../state/store';

export function SettingsPage() {
  return (
    <div className="flex min-h-0 flex-1 flex-col bg-surface">
      <header className="flex h-16 shrink-0 items-center gap-2 border-b border-slate-200 px-2 sm:px-4">
        <Link to="/" aria-label="Back to conversations" className="rounded-full p-2 text-slate-600 hover:bg-slate-100 md:hidden">
          <Icon d={icons.back} />
        </Link>
        <h1 className="font-semibold">Settings</h1>
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-lg space-y-10 p-4 sm:p-8">
          <ProfilePhoto />
          <ProfileForm />
          <AppearanceSection />
          <NotificationSettings />
          <PasswordSection />
          <SessionsList />
          <BlocksSection />
          <DataSection />
          <InviteSection />
          <section className="border-t border-slate-200 pt-6">
            <Button kind="danger" onClick={() => void logout()} className="w-full">
              Log out
            </Button>
          </section>
        </div>
      </div>
    </div>
  );
}

const themes: { value: ThemeChoice; label: string; hint: string }[] = [
  { value: 'system', label: 'System', hint: 'As the system is set' },
  { value: 'light', label: 'Light', hint: 'Always light' },
  { value: 'dark', label: 'Dark', hint: 'Always dark' },
];

/** AppearanceSection chooses the colour theme (kept on this device). */
function AppearanceSection() {
  const choice = useThemeChoice();
  return (
    <section aria-labelledby="appearance-h">
      <h2 id="appearance-h" className="mb-4 text-lg font-semibold">
        Appearance
      </h2>
      <fieldset>
        <legend className="mb-2 text-sm font-medium text-slate-700">Theme</legend>
        <div className="grid grid-cols-3 gap-2">
          {themes.map((t) => (
            <label key={t.value} className={`flex min-h-11 cursor-pointer flex-col rounded-lg px-3 py-2 text-sm ring-1 has-focus-visible:ring-2 has-focus-visible:ring-brand-500 ${choice === t.value ? 'bg-brand-50 ring-brand-500' : 'ring-slate-300 hover:bg-slate-50'}`}>
              <span className="flex items-center gap-2 font-medium">
                <input type="radio" name="theme" value={t.value} checked={choice === t.value} onChange={() => setThemeChoice(t.value)} className="accent-brand-700" />
                {t.label}
              </span>
              <span className="mt-0.5 text-xs text-slate-600">{t.hint}</span>
            </label>
          ))}
        </div>
      </fieldset>
    </section>
  );
}

/** ProfilePhoto sets the photo others see beside my name (everywhere my initials would be). */
function ProfilePhoto() {
  const user = useStore(session, (s) => s.user)!;
  return (
    <section aria-labelledby="photo-h">
      <h2 id="photo-h" className="mb-4 text-lg font-semibold">
        Profile photo
      </h2>
      <PhotoControl
        name={nameOf(user)}
        seed={user.id}
        src={user.avatar_url}
        label="Choose a profile photo"
        onSave={async (b) => updateMe((await api.setAvatar(b)).user)}
        onRemove={async () => updateMe((await api.removeAvatar()).user)}
      />
    </section>
  );
}

function ProfileForm() {
  const user = useStore(session, (s) => s.user)!;
  const [name, setName] = useState(user.display_name ?? '');
  const [accepting, setAccepting] = useState(user.accepting_messages ?? true);
  const [error, setError] = useState<{ display_name?: string; form?: string }>({});
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError({});
    setSaved(false);
    try {
      const { user: u } = await api.updateMe({ display_name: name.trim(), accepting_messages: accepting });
      updateMe(u);
      setSaved(true);
    } catch (err) {
      const m = err instanceof Error ? err.message : 'Could not save.';
      setError((err as { field?: string }).field === 'display_name' ? { display_name: m } : { form: m });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="profile-h">
      <h2 id="profile-h" className="mb-4 text-lg font-semibold">
        Profile
      </h2>
      <form onSubmit={submit} className="space-y-4">
        <p className="text-sm text-slate-600">
          Signed in as <span className="font-medium text-slate-900">@{user.username}</span>
          {user.email && <> ({user.email})</>}
        </p>
        <TextField label="Display name" value={name} maxLength={64} onChange={(e) => (setName(e.target.value), setSaved(false))} error={error.display_name} hint="How others see you. Leave empty to use your username." />
        <label className="flex items-start gap-3">
          <input type="checkbox" checked={accepting} onChange={(e) => (setAccepting(e.target.checked), setSaved(false))} className="mt-1 h-4 w-4 rounded border-slate-300 text-brand-700 focus:ring-brand-500" />
          <span>
            <span className="block text-sm font-medium">Accept direct messages</span>
            <span className="block text-xs text-slate-500">When off, nobody can send you new direct messages. Groups are not affected.</span>
          </span>
        </label>
        <FormError>{error.form}</FormError>
        <div className="flex items-center gap-3">
          <Button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </Button>
          {saved && (
            <span role="status" className="text-sm text-emerald-700">
              Saved
            </span>
          )}
        </div>
      </form>
    </section>
  );
}

function SessionsList() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const load = () =>
    api.sessions().then(
      ({ sessions }) => setSessions(sessions),
      (e) => setError(e.message),
    );
  useEffect(() => {
    void load();
  }, []);

  const others = async () => {
    setError(undefined);
    try {
      const { revoked } = await api.logoutOthers();
      setNotice(revoked === 1 ? 'Logged out 1 other session.' : `Logged out ${revoked} other sessions.`);
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const end = async (s: Session) => {
    setError(undefined);
    try {
      await api.deleteSession(s.id);
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="sessions-h">
      <h2 id="sessions-h" className="mb-4 text-lg font-semibold">
        Active sessions
      </h2>
      <FormError>{error}</FormError>
      {sessions === null ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-xl ring-1 ring-slate-200" data-testid="session-list">
          {sessions.map((s) => (
            <li key={s.id} className="flex items-center gap-3 px-4 py-3">
              <span className="min-w-0 flex-1">
                <span className="block truncate text-sm font-medium">
                  {describeAgent(s.user_agent)}
                  {s.current && <span className="ml-2 rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700">This device</span>}
                </span>
                <span className="block truncate text-xs text-slate-500">
                  {s.ip} · last used {formatWhen(s.last_used)}
                </span>
              </span>
              {!s.current && (
                <Button kind="ghost" className="px-2 py-1 text-red-700" onClick={() => void end(s)} aria-label={`Log out session ${describeAgent(s.user_agent)} from ${s.ip}`}>
                  Log out
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="mt-4 flex flex-wrap items-center gap-3">
        <Button kind="secondary" onClick={() => void others()} disabled={!sessions || sessions.filter((s) => !s.current).length === 0}>
          Log out other sessions
        </Button>
        {notice && (
          <span role="status" className="text-sm text-emerald-700">
            {notice}
          </span>
        )}
      </div>
    </section>
  );
}
