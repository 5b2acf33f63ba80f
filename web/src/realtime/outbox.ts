// The outbox holds messages written but not yet acknowledged by the server.
// It survives reloads (localStorage, per user) and goes out on (re)connect;
// each item keeps its client_msg_id, so a resend is never stored twice.
import type { OutboxItem } from '../state/chat';

export function newClientMsgId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return 'c-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Outbox {
  private list: OutboxItem[] = [];
  private listeners = new Set<(items: OutboxItem[]) => void>();
  private storage: Storage | null;
  private key: string;

  constructor(storage: Storage | null, key: string) {
    this.storage = storage;
    this.key = key;
    this.list = this.load();
  }

  private load(): OutboxItem[] {
    if (!this.storage) return [];
    try {
      const raw = this.storage.getItem(this.key);
      const v = raw ? JSON.parse(raw) : [];
      return Array.isArray(v) ? v.filter((x) => x && typeof x.client_msg_id === 'string' && typeof x.conversation_id === 'number' && typeof x.text === 'string') : [];
    } catch {
      return [];
    }
  }

  private save() {
    if (this.storage) {
      try {
        if (this.list.length) this.storage.setItem(this.key, JSON.stringify(this.list));
        else this.storage.removeItem(this.key);
      } catch {
        // Storage full or denied: the outbox still works for this page.
      }
    }
    for (const l of this.listeners) l(this.list);
  }

  items(): OutboxItem[] {
    return this.list;
  }

  has(id: string): boolean {
    return this.list.some((i) => i.client_msg_id === id);
  }

  add(item: OutboxItem) {
    if (this.has(item.client_msg_id)) return;
    this.list = [...this.list, item];
    this.save();
  }

  remove(id: string) {
    if (!this.has(id)) return;
    this.list = this.list.filter((i) => i.client_msg_id !== id);
    this.save();
  }

  update(id: string, patch: Partial<OutboxItem>) {
    if (!this.has(id)) return;
    this.list = this.list.map((i) => (i.client_msg_id === id ? { ...i, ...patch } : i));
    this.save();
  }

  subscribe(l: (items: OutboxItem[]) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
