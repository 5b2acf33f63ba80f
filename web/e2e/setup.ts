// Runs in every browser test file: a Content Security Policy violation
// reported by Chromium during a test fails it (see launchBrowser).
import { afterAll, afterEach } from 'vitest';
import { takeCSPViolations } from './harness';

function check() {
  const v = takeCSPViolations();
  if (v.length > 0) throw new Error(`Chromium reported Content Security Policy violations:\n${v.join('\n')}`);
}

afterEach(check);
afterAll(check);
