// The routes of a person's own account: password, blocks, export, deletion.
import { API, request } from './http';
import type { User } from './types';

export const accountApi = {
  changePassword: (current_password: string, new_password: string) => request<{ revoked: number }>('POST', '/me/password', { current_password, new_password }),
  deleteAccount: (password: string) => request<void>('POST', '/me/delete', { password }),
  blocks: () => request<{ users: User[] }>('GET', '/me/blocks'),
  block: (username: string) => request<{ user: User }>('POST', '/me/blocks', { username }),
  unblock: (userId: number) => request<void>('DELETE', `/me/blocks/${userId}`),
  /** The address of the data export (a zip the browser downloads). */
  exportURL: `${API}/me/export`,
};

/** A deleted account keeps its id; its username becomes "~" and the id. */
export function isDeleted(u: Pick<User, 'username'> & { deleted?: boolean }): boolean {
  return !!u.deleted || u.username.startsWith('~');
}
