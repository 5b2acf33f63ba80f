// Builds the web app and the server once for every browser test file (each
// file starts its own server from this binary). With $PARLEY_BIN set, that
// prebuilt binary is used instead; without Chromium nothing is built (the
// files skip, or fail under CI=true).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CHROMIUM, repoDir, webDir } from './harness';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The parley binary built for this run ('' when none was built). */
    parleyBin: string;
  }
}

export default function setup(project: TestProject) {
  if (process.env.PARLEY_BIN || !existsSync(CHROMIUM)) {
    project.provide('parleyBin', '');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'parley-e2e-bin-'));
  // Build the web app first so the binary embeds the current code.
  // (Vitest sets NODE_ENV=test, which would give a development build.)
  execFileSync('npm', ['run', 'build'], { cwd: webDir, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  const bin = join(tmp, 'parley');
  execFileSync('go', ['build', '-o', bin, './cmd/parley'], { cwd: repoDir, stdio: 'inherit' });
  project.provide('parleyBin', bin);
  return () => rmSync(tmp, { recursive: true, force: true });
}
