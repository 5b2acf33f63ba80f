// The emoji data module vite.config.ts builds (emojiData plugin).
declare module 'virtual:emoji-data' {
  import type { EmojiGroup } from './search';
  const groups: EmojiGroup[];
  export default groups;
}
