// Settings' invitations: an admin finds the admin page here; with
// --invites-by-members every member may invite people (their own
// invitations, to copy or revoke).
import { useCallback, useEffect, useState } from 'react';
import { adminApi, inviteLink, type Invitation } from '../api/admin';
import { ApiError } from '../api/http';
import { session } from '../app';
import { formatFull } from '../lib/format';
import { Link } from '../lib/router';
import { useNow } from '../lib/useNow';
import { useStore } from '../state/store';
import { Button, CopyButton, FormError } from './ui';

export function InviteSection() {
  const role = useStore(session, (s) => s.user?.role);
  const byMembers = useStore(session, (s) => !!s.features.invites_by_members);
  if (role === 'admin')
    return (
      <section aria-labelledby="admin-h">
        <h2 id="admin-h" className="mb-2 text-lg font-semibold">
          Administration
        </h2>
        <p className="text-sm text-slate-700">
          You are an admin of this Parley.{' '}
          <Link to="/admin" className="font-medium text-brand-700 underline">
            Open the admin page
          </Link>{' '}
          for users, invitations, reports and figures.
        </p>
      </section>
    );
  return byMembers ? <MemberInvitations /> : null;
}

function MemberInvitations() {
  const [list, setList] = useState<Invitation[]>([]);
  const [error, setError] = useState<string>();
  const now = useNow(true, 60_000);
  const load = useCallback(() => {
    adminApi.invitations().then((r) => setList(r.invitations), (e) => setError(e instanceof ApiError ? e.message : 'Could not load your invitations.'));
  }, []);
  useEffect(load, [load]);
  const act = async (f: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await f();
      load();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Something went wrong. Please try again.');
    }
  };
  const active = list.filter((i) => !i.revoked_at && i.uses < i.max_uses && Date.parse(i.expires_at) > now);
  return (
    <section aria-labelledby="invite-h">
      <h2 id="invite-h" className="mb-2 text-lg font-semibold">
        Invite people
      </h2>
      <p className="mb-3 text-sm text-slate-700">An invitation link lets one person sign up within 7 days.</p>
      <Button kind="secondary" onClick={() => void act(() => adminApi.createInvitation(1, 7 * 24))}>
        Create an invitation link
      </Button>
      <FormError>{error}</FormError>
      {active.length > 0 && (
        <ul className="mt-3 space-y-2">
          {active.map((inv) => (
            <li key={inv.id} className="flex flex-wrap items-center gap-2 rounded-lg p-2 text-sm ring-1 ring-slate-200" data-testid="my-invitation">
              <span className="min-w-0 flex-1 text-slate-700">until {formatFull(inv.expires_at)}</span>
              <CopyButton text={inviteLink(inv.code)} label="Copy link" />
              <Button kind="danger" className="px-3 py-1.5" onClick={() => void act(() => adminApi.revokeInvitation(inv.id))}>
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
