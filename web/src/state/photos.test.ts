import { describe, expect, it } from 'vitest';
import { describeFiles, formatDuration, formatSize, shownBox } from '../lib/files';
import { conv, member } from '../test/fakes';
import { applyMemberChange, initialChatState, setMembers, upsertConversation, type ChatState } from './chat';

describe('photos', () => {
  it('shows a new profile photo everywhere the person appears, and its removal', () => {
    let s: ChatState = { ...initialChatState(), me: { id: 1, username: 'me', display_name: 'Me' } };
    s = upsertConversation(s, conv(5, { kind: 'direct', name: 'bob', peer: { id: 2, username: 'bob', display_name: 'Bob' } }));
    s = upsertConversation(s, conv(6));
    s = setMembers(s, 6, [member(6, 1), member(6, 2)]);
    s = applyMemberChange(s, 6, 'profile', member(6, 2, { avatar_url: '/api/v1/users/2/avatar?v=1' }));
    expect(s.conversations[5].peer?.avatar_url).toBe('/api/v1/users/2/avatar?v=1');
    expect(s.members[6].find((m) => m.user_id === 2)?.avatar_url).toBe('/api/v1/users/2/avatar?v=1');
    s = applyMemberChange(s, 6, 'profile', member(6, 2));
    expect(s.conversations[5].peer?.avatar_url).toBeUndefined();
    expect(s.members[6].find((m) => m.user_id === 2)?.avatar_url).toBeUndefined();
    s = applyMemberChange(s, 5, 'profile', member(5, 1, { avatar_url: '/me' }));
    expect(s.me?.avatar_url).toBe('/me');
  });

  it('forgets a group photo the server no longer lists', () => {
    let s = upsertConversation(initialChatState(), conv(6, { photo_url: '/p?v=1' }));
    expect(s.conversations[6].photo_url).toBe('/p?v=1');
    s = upsertConversation(s, conv(6));
    expect(s.conversations[6].photo_url).toBeUndefined();
  });
});

describe('how files read', () => {
  it('writes sizes and durations', () => {
    expect(formatSize(999)).toBe('999 bytes');
    expect(formatSize(1_200_000)).toBe('1.2 MB');
    expect(formatSize(25 * 1024 * 1024)).toBe('26 MB');
    expect(formatDuration(7.4)).toBe('0:07');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
  it('sizes an image box from width and height, clamping extremes', () => {
    expect(shownBox(1200, 600)).toEqual({ width: 288, height: 144, crop: false });
    expect(shownBox(300, 600)).toEqual({ width: 160, height: 320, crop: false });
    expect(shownBox(100, 1000).crop).toBe(true);
    expect(shownBox(undefined, undefined)).toEqual({ width: 288, height: 288, crop: true });
  });
  it('sums up a message’s files', () => {
    const img = { name: 'a.jpg', content_type: 'image/jpeg', thumbnail_url: '/t' };
    expect(describeFiles([img])).toBe('📷 Photo');
    expect(describeFiles([img, img])).toBe('📷 2 photos');
    expect(describeFiles([{ name: 'Voice message 2026.webm', content_type: 'audio/webm', duration: 7 }])).toBe('🎤 Voice message (0:07)');
    expect(describeFiles([{ name: 'x.pdf', content_type: 'application/pdf' }])).toBe('📎 x.pdf');
  });
});
