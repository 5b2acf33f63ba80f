// Starting conversations: create a group, join one by code, or message a
// person by username (searched as you type).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/http';
import type { Conversation, User } from '../api/types';
import { chat, session } from '../app';
import { Avatar, Button, CopyButton, FormError, Icon, icons, TextField } from '../components/ui';
import { nameOf } from '../lib/format';
import { Link, navigate } from '../lib/router';
import { upsertConversation } from '../state/chat';
import { useStore } from '../state/store';

type Tab = 'group' | 'join' | 'direct';
const tabs: { id: Tab; label: string }[] = [
  { id: 'group', label: 'New group' },
  { id: 'join', label: 'Join group' },
  { id: 'direct', label: 'Direct message' },
];

function fieldError(e: unknown, field: string): { field?: string; form?: string } {
  if (e instanceof ApiError) return e.field === field ? { field: e.message } : { form: e.message };
  return { form: 'Something went wrong. Please try again.' };
}

function opened(c: Conversation) {
  chat.set((s) => upsertConversation(s, c));
}

export function NewChatPage({ tab }: { tab: Tab }) {
  return (
    <div className="flex min-h-0 flex-1 flex-col bg-surface">
      <header className="flex h-16 shrink-0 items-center gap-2 border-b border-slate-200 px-2 sm:px-4">
        <Link to="/" aria-label="Back to conversations" className="rounded-full p-2 text-slate-600 hover:bg-slate-100 md:hidden">
          <Icon d={icons.back} />
        </Link>
        <h1 className="font-semibold">Start a conversation</h1>
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-lg p-4 sm:p-8">
          <nav aria-label="Ways to start" className="mb-6 grid grid-cols-3 gap-1 rounded-xl bg-slate-100 p-1">
            {tabs.map((t) => (
              <Link key={t.id} to={`/new/${t.id}`} aria-current={tab === t.id ? 'page' : undefined} className={`rounded-lg px-2 py-2 text-center text-sm font-medium transition ${tab === t.id ? 'bg-surface text-brand-700 shadow-sm' : 'text-slate-600 hover:text-slate-900'}`}>
                {t.label}
              </Link>
            ))}
          </nav>
          {tab === 'group' && <CreateGroupForm />}
          {tab === 'join' && <JoinGroupForm />}
          {tab === 'direct' && <DirectChatForm />}
        </div>
      </div>
    </div>
  );
}

function CreateGroupForm() {
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<{ name?: string; code?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Conversation | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const { conversation } = await api.createGroup(name.trim(), code.trim() || undefined);
      opened(conversation);
      setCreated(conversation);
    } catch (err) {
      if (err instanceof ApiError && (err.field === 'name' || err.field === 'code')) setErrors({ [err.field]: err.message });
      else setErrors({ form: err instanceof Error ? err.message : 'Could not create the group.' });
    } finally {
      setBusy(false);
    }
  };

  if (created)
    return (
      <div className="space-y-4 rounded-xl border border-brand-100 bg-brand-50 p-5" data-testid="group-created">
        <h2 className="text-lg font-semibold text-brand-800">“{created.name}” is ready</h2>
        <p className="text-sm text-slate-700">Share this code so others can join:</p>
        <div className="flex items-center gap-2">
          <code className="flex-1 rounded-lg bg-surface px-3 py-2 font-mono text-lg tracking-wide ring-1 ring-brand-200" data-testid="join-code">
            {created.code}
          </code>
          <CopyButton text={created.code ?? ''} label="Copy code" />
        </div>
        <Button onClick={() => navigate(`/c/${created.id}`)} className="w-full">
          Open the group
        </Button>
      </div>
    );

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <TextField label="Group name" name="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} maxLength={64} required autoFocus />
      <TextField label="Join code (optional)" name="code" value={code} onChange={(e) => setCode(e.target.value)} error={errors.code} hint="6–32 letters, digits, - or _. Leave empty to get a generated one." autoCapitalize="none" spellCheck={false} />
      <FormError>{errors.form}</FormError>
      <Button type="submit" disabled={busy || !name.trim()} className="w-full">
        {busy ? 'Creating…' : 'Create group'}
      </Button>
    </form>
  );
}

function JoinGroupForm() {
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<{ code?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const { conversation } = await api.joinGroup(code.trim());
      opened(conversation);
      navigate(`/c/${conversation.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'group_not_found') setErrors({ code: 'No group has that code. Check it and try again.' });
      else {
        const f = fieldError(err, 'code');
        setErrors({ code: f.field, form: f.form });
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <TextField label="Group code" name="code" value={code} onChange={(e) => setCode(e.target.value)} error={errors.code} autoCapitalize="none" spellCheck={false} required autoFocus />
      <FormError>{errors.form}</FormError>
      <Button type="submit" disabled={busy || !code.trim()} className="w-full">
        {busy ? 'Joining…' : 'Join group'}
      </Button>
    </form>
  );
}

function DirectChatForm() {
  const me = useStore(session, (s) => s.user);
  const [username, setUsername] = useState('');
  const [results, setResults] = useState<User[]>([]);
  const [errors, setErrors] = useState<{ username?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);

  // Search as you type, debounced; a newer search cancels the older one.
  useEffect(() => {
    const prefix = username.trim().toLowerCase();
    if (!prefix) return; // the results were cleared as the box was emptied
    const t = setTimeout(() => {
      abort.current?.abort();
      const ac = new AbortController();
      abort.current = ac;
      api.searchUsers(prefix, 10, ac.signal).then(
        ({ users }) => !ac.signal.aborted && setResults(users.filter((u) => u.id !== me?.id)),
        () => {},
      );
    }, 150);
    return () => clearTimeout(t);
  }, [username, me?.id]);

  const start = async (name: string) => {
    setBusy(true);
    setErrors({});
    try {
      const { conversation } = await api.direct(name.trim().toLowerCase());
      opened(conversation);
      navigate(`/c/${conversation.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'not_found') setErrors({ username: `There is no user called “${name.trim()}”.` });
      else if (err instanceof ApiError && (err.code === 'not_accepting' || err.code === 'invalid')) setErrors({ username: err.message });
      else setErrors({ form: err instanceof Error ? err.message : 'Could not start the chat.' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (username.trim()) void start(username);
      }}
      className="space-y-4"
      noValidate
    >
      <TextField label="Username" name="username" value={username} onChange={(e) => {
          setUsername(e.target.value);
          if (!e.target.value.trim()) setResults([]);
        }} error={errors.username} autoCapitalize="none" autoComplete="off" spellCheck={false} placeholder="Start typing a username" required autoFocus />
      {results.length > 0 && (
        <ul aria-label="Matching people" className="divide-y divide-slate-100 overflow-hidden rounded-xl ring-1 ring-slate-200" data-testid="user-results">
          {results.map((u) => (
            <li key={u.id}>
              <button type="button" onClick={() => void start(u.username)} disabled={busy} className="flex w-full items-center gap-3 px-3 py-2 text-left hover:bg-slate-50 focus:bg-brand-50 focus:outline-none">
                <Avatar name={nameOf(u)} seed={u.id} size="sm" src={u.avatar_url} />
                <span className="min-w-0">
                  <span className="block truncate text-sm font-medium">{nameOf(u)}</span>
                  <span className="block truncate text-xs text-slate-500">@{u.username}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <FormError>{errors.form}</FormError>
      <Button type="submit" disabled={busy || !username.trim()} className="w-full">
        {busy ? 'Opening…' : 'Message'}
      </Button>
    </form>
  );
}
