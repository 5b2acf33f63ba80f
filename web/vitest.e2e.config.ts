import { defineConfig } from 'vitest/config';

// End-to-end tests: a real Go server and Debian's Chromium per file, two
// files at a time (each file starts its own server on a free port with its
// own data dir; the tests mostly wait on the browser, so two halve the time).
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.ts'],
    // Builds the app and the server once for all the files.
    globalSetup: ['e2e/globalSetup.ts'],
    // Fails a test on any Content Security Policy violation.
    setupFiles: ['e2e/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: true,
    maxWorkers: 2,
    sequence: { concurrent: false },
    // expect.poll is a deadline loop: give it the tests' 20 s (WAIT), not
    // Vitest's 1 s, which a loaded machine misses (a notification or a
    // message shown 1.5 s after it was sent failed notify.e2e.ts).
    expect: { poll: { timeout: 20_000 } },
  },
});
