// ESLint for the web app: the recommended JavaScript and typescript-eslint
// rules, and React's rules of hooks. `npm test` runs it before the unit tests.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  reactHooks.configs.flat.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser },
    },
    rules: {
      // Arguments named _ are deliberately unused (the compiler checks the rest).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['e2e/**', 'vite.config.ts', 'vitest.e2e.config.ts', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
