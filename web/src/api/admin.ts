// Instance administration over REST (docs/protocol.md, "Instance
// administration"): admins' routes, invitations, reports, reset links.
import { request } from './http';
import type { Message, User, UserRef } from './types';

export type SignupPolicy = 'open' | 'invite' | 'closed';

export interface Invitation {
  id: number;
  code: string;
  created_by?: number;
  creator?: string;
  created_at: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  revoked_at?: string;
}

export interface InstanceStats {
  users: number;
  admins: number;
  disabled: number;
  conversations: number;
  groups: number;
  messages: number;
  open_reports: number;
  database_bytes: number;
}

export interface AdminFigures {
  stats: InstanceStats;
  connections: number;
  online_users: number;
  signup: SignupPolicy;
  invites_by_members: boolean;
}

export type ReportAction = 'delete_message' | 'disable_user' | 'dismiss';

export interface Report {
  id: number;
  conversation_id: number;
  seq: number;
  sender?: UserRef;
  reporter?: UserRef;
  reason: string;
  text: string;
  created_at: string;
  resolved_at?: string;
  action?: ReportAction;
  context?: Message[];
}

/** An admin's view of an account. */
export interface AdminUser extends User {
  role?: 'admin' | 'member';
  disabled_at?: string;
}

const enc = encodeURIComponent;

export const adminApi = {
  users: (prefix: string, afterId = 0, limit = 50) => request<{ users: AdminUser[] }>('GET', `/admin/users?prefix=${enc(prefix)}&after_id=${afterId}&limit=${limit}`),
  createUser: (body: { username: string; email?: string; password?: string; admin?: boolean }) => request<{ user: AdminUser; reset_path?: string }>('POST', '/admin/users', body),
  updateUser: (id: number, patch: { admin?: boolean; disabled?: boolean }) => request<{ user: AdminUser }>('PATCH', `/admin/users/${id}`, patch),
  deleteUser: (id: number) => request<void>('DELETE', `/admin/users/${id}`),
  resetLink: (id: number) => request<{ reset_path: string; expires_at: string }>('POST', `/admin/users/${id}/reset-link`),
  figures: () => request<AdminFigures>('GET', '/admin/stats'),
  reports: (status: 'open' | 'resolved') => request<{ reports: Report[] }>('GET', `/admin/reports?status=${status}`),
  resolveReport: (id: number, action: ReportAction) => request<{ report: Report }>('POST', `/admin/reports/${id}`, { action }),
  invitations: () => request<{ invitations: Invitation[] }>('GET', '/invitations'),
  createInvitation: (maxUses: number, hours: number) => request<{ invitation: Invitation }>('POST', '/invitations', { max_uses: maxUses, expires_in_hours: hours }),
  revokeInvitation: (id: number) => request<{ invitation: Invitation }>('DELETE', `/invitations/${id}`),
  report: (conversationId: number, seq: number, reason: string) => request<{ report: { id: number } }>('POST', `/conversations/${conversationId}/messages/${seq}/report`, { reason }),
  resetPassword: (token: string, password: string) => request<void>('POST', '/auth/reset-password', { token, password }),
};

/** The sign-up page's address for an invitation. */
export const inviteLink = (code: string) => `${window.location.origin}/signup?invite=${enc(code)}`;
