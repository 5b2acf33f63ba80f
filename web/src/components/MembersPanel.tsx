// A group's members, with leave for everyone and rename / join code / roles /
// remove for admins.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/http';
import type { Conversation, Member } from '../api/types';
import { chat } from '../app';
import { nameOf } from '../lib/format';
import { navigate } from '../lib/router';
import { removeConversation, setMembers, upsertConversation } from '../state/chat';
import { useStore } from '../state/store';
import { PhotoControl } from './PhotoPicker';
import { Avatar, Button, CopyButton, FormError, Icon, icons, TextField } from './ui';

const roleLabel: Record<string, string> = { owner: 'Owner', admin: 'Admin', member: '' };

export function MembersPanel({ conv, onClose }: { conv: Conversation; onClose: () => void }) {
  const me = useStore(chat, (s) => s.me);
  const members = useStore(chat, (s) => s.members[conv.id]);
  const presence = useStore(chat, (s) => s.presence);
  const [error, setError] = useState<string>();
  const isAdmin = conv.role === 'owner' || conv.role === 'admin';

  useEffect(() => {
    api.members(conv.id).then(
      ({ members }) => chat.set((s) => setMembers(s, conv.id, members)),
      () => {},
    );
  }, [conv.id]);

  const sorted = [...(members ?? [])].sort((a, b) => rank(a) - rank(b) || nameOf(a).localeCompare(nameOf(b)));

  const run = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof Error ? e.message : 'That did not work.');
    }
  };

  const remove = (m: Member) =>
    run(async () => {
      await api.removeMember(conv.id, m.user_id);
      chat.set((s) => setMembers(s, conv.id, (s.members[conv.id] ?? []).filter((x) => x.user_id !== m.user_id)));
    });
  const setRole = (m: Member, role: 'admin' | 'member') =>
    run(async () => {
      const { member } = await api.setRole(conv.id, m.user_id, role);
      chat.set((s) => setMembers(s, conv.id, (s.members[conv.id] ?? []).map((x) => (x.user_id === member.user_id ? { ...x, ...member } : x))));
    });

  return (
    <aside aria-label="Group members" className="flex h-full w-full flex-col border-l border-slate-200 bg-surface md:w-80" data-testid="members-panel">
      <header className="flex h-16 shrink-0 items-center justify-between border-b border-slate-200 px-4">
        <h2 className="font-semibold">Group info</h2>
        <button type="button" onClick={onClose} aria-label="Close group info" className="rounded-full p-2 text-slate-500 hover:bg-slate-100">
          <Icon d={icons.close} />
        </button>
      </header>
      <div className="min-h-0 flex-1 space-y-6 overflow-y-auto p-4">
        {isAdmin ? (
          <PhotoControl
            name={conv.name}
            seed={conv.id * 7 + 3}
            src={conv.photo_url}
            label="Choose a group photo"
            onSave={async (b) => {
              const { conversation } = await api.setGroupPhoto(conv.id, b);
              chat.set((s) => upsertConversation(s, conversation));
            }}
            onRemove={async () => {
              const { conversation } = await api.removeGroupPhoto(conv.id);
              chat.set((s) => upsertConversation(s, conversation));
            }}
          />
        ) : (
          conv.photo_url && <Avatar name={conv.name} seed={conv.id * 7 + 3} size="xl" src={conv.photo_url} />
        )}
        {isAdmin ? <RenameForm conv={conv} /> : <p className="text-lg font-semibold">{conv.name}</p>}
        <JoinCode conv={conv} isAdmin={isAdmin} />
        <section>
          <h3 className="mb-2 text-sm font-semibold text-slate-700">{members ? `${members.length} ${members.length === 1 ? 'member' : 'members'}` : 'Members'}</h3>
          <FormError>{error}</FormError>
          <ul className="divide-y divide-slate-100" data-testid="member-list">
            {sorted.map((m) => (
              <li key={m.user_id} className="flex items-center gap-3 py-2">
                <Avatar name={nameOf(m)} seed={m.user_id} size="sm" online={m.user_id === me?.id ? true : !!presence[m.user_id]?.online} src={m.avatar_url} />
                <span className="min-w-0 flex-1">
                  <span className="block truncate text-sm font-medium">
                    {nameOf(m)}
                    {m.user_id === me?.id && <span className="font-normal text-slate-500"> (you)</span>}
                  </span>
                  <span className="block truncate text-xs text-slate-500">@{m.username}</span>
                </span>
                {roleLabel[m.role] && <span className="rounded-full bg-brand-50 px-2 py-0.5 text-xs font-medium text-brand-700">{roleLabel[m.role]}</span>}
                {isAdmin && m.user_id !== me?.id && m.role !== 'owner' && (
                  <span className="flex gap-1">
                    <button type="button" className="rounded px-1.5 py-1 text-xs text-slate-600 hover:bg-slate-100" onClick={() => void setRole(m, m.role === 'admin' ? 'member' : 'admin')} aria-label={m.role === 'admin' ? `Remove admin role from ${nameOf(m)}` : `Make ${nameOf(m)} an admin`}>
                      {m.role === 'admin' ? 'Remove admin' : 'Make admin'}
                    </button>
                    <button type="button" className="rounded px-1.5 py-1 text-xs text-red-700 hover:bg-red-50" onClick={() => void remove(m)} aria-label={`Remove ${nameOf(m)}`}>
                      Remove
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        </section>
        <LeaveGroup conv={conv} />
      </div>
    </aside>
  );
}

function rank(m: Member) {
  return m.role === 'owner' ? 0 : m.role === 'admin' ? 1 : 2;
}

function RenameForm({ conv }: { conv: Conversation }) {
  const [name, setName] = useState(conv.name);
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  // A new name from elsewhere (a rename by another admin) replaces the box's text.
  const [nameShown, setNameShown] = useState(conv.name);
  if (nameShown !== conv.name) {
    setNameShown(conv.name);
    setName(conv.name);
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      const { conversation } = await api.rename(conv.id, name.trim());
      chat.set((s) => upsertConversation(s, conversation));
      setSaved(true);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not rename.');
    }
  };
  return (
    <form onSubmit={submit} className="flex items-end gap-2">
      <TextField label="Group name" className="flex-1" value={name} maxLength={64} onChange={(e) => (setName(e.target.value), setSaved(false))} error={error} hint={saved ? 'Saved' : undefined} />
      <Button type="submit" kind="secondary" disabled={!name.trim() || name.trim() === conv.name} className={error ? 'mb-7' : saved ? 'mb-5' : ''}>
        Rename
      </Button>
    </form>
  );
}

function JoinCode({ conv, isAdmin }: { conv: Conversation; isAdmin: boolean }) {
  const [custom, setCustom] = useState('');
  const [error, setError] = useState<string>();
  const rotate = async (code?: string) => {
    setError(undefined);
    try {
      const { conversation } = await api.rotateCode(conv.id, code);
      chat.set((s) => upsertConversation(s, conversation));
      setCustom('');
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : 'Could not change the code.');
    }
  };
  if (!conv.code && !isAdmin) return null;
  return (
    <section>
      <h3 className="mb-2 text-sm font-semibold text-slate-700">Join code</h3>
      {conv.code && (
        <div className="flex items-center gap-2">
          <code className="flex-1 rounded-lg bg-slate-100 px-3 py-2 font-mono text-sm" data-testid="join-code">
            {conv.code}
          </code>
          <CopyButton text={conv.code} />
        </div>
      )}
      <p className="mt-1 text-xs text-slate-500">Anyone with the code can join.</p>
      {isAdmin && (
        <form
          className="mt-3 flex items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void rotate(custom.trim() || undefined);
          }}
        >
          <TextField label="New code (optional)" className="min-w-0 flex-1" value={custom} onChange={(e) => setCustom(e.target.value)} error={error} hint="Empty: a new code is generated." />
          <Button type="submit" kind="secondary" className={error ? 'mb-7' : ''}>
            Change
          </Button>
        </form>
      )}
    </section>
  );
}

function LeaveGroup({ conv }: { conv: Conversation }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string>();
  const leave = async () => {
    try {
      await api.leave(conv.id);
      chat.set((s) => removeConversation(s, conv.id));
      navigate('/');
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not leave.');
    }
  };
  return (
    <section className="border-t border-slate-200 pt-4">
      <FormError>{error}</FormError>
      {confirm ? (
        <div className="space-y-2">
          <p className="text-sm text-slate-700">Leave “{conv.name}”? You will need the code to come back.</p>
          <div className="flex gap-2">
            <Button kind="danger" onClick={() => void leave()} autoFocus>
              Leave group
            </Button>
            <Button kind="ghost" onClick={() => setConfirm(false)}>
              Cancel
            </Button>
          </div>
        </div>
      ) : (
        <Button kind="danger" onClick={() => setConfirm(true)} className="w-full">
          Leave group
        </Button>
      )}
    </section>
  );
}
