// A person's @username, shown beside their display name wherever they are
// identified: display names may look alike, usernames are unique. Beside a
// name in a row, the name gives way first (flex-shrink 4 to 1).
// A deleted account (username ~id) has no handle to show.
export function Handle({ username, className = '' }: { username: string; className?: string }) {
  if (username.startsWith('~')) return null;
  return (
    <span className={`truncate font-normal ${className}`} data-testid="handle">
      @{username}
    </span>
  );
}
