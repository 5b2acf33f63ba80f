// The colour theme: the system's setting, or light or dark as chosen in
// Settings (kept in localStorage). The CSS follows the system by itself
// (prefers-color-scheme); a choice puts .light or .dark on <html>. This
// module applies the stored choice as soon as it is imported, first thing in
// main.tsx, before anything renders.
import { useSyncExternalStore } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'parley.theme';
const listeners = new Set<() => void>();

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

let current: ThemeChoice = read();

/** applyTheme puts the choice on <html> (no class: follow the system). */
function applyTheme(choice: ThemeChoice) {
  const root = document.documentElement;
  root.classList.toggle('light', choice === 'light');
  root.classList.toggle('dark', choice === 'dark');
}

export function themeChoice(): ThemeChoice {
  return current;
}

export function setThemeChoice(choice: ThemeChoice) {
  current = choice;
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    /* storage denied: the choice lasts for this page */
  }
  applyTheme(choice);
  for (const l of listeners) l();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useThemeChoice(): ThemeChoice {
  return useSyncExternalStore(subscribe, themeChoice, themeChoice);
}

// Another tab changed the choice.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key !== KEY) return;
    current = read();
    applyTheme(current);
    for (const l of listeners) l();
  });
}

applyTheme(current);
