#!/usr/bin/env node
// `boka …`: runs the compiled CLI (dist/) when the build is current, so a production install
// (`npm ci --omit=dev`) needs no TypeScript tooling; in a checkout whose sources are newer than
// the build (or never built), runs the TypeScript sources through tsx instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readBuildState } from './build-state.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiledUrl = new URL('../dist/cli/index.js', import.meta.url);
const compiled = fileURLToPath(compiledUrl);
const state = readBuildState(root);
let tsxAvailable = true;
try {
  import.meta.resolve('tsx');
} catch {
  tsxAvailable = false;
}

// BOKA_FROM_SOURCES=1 runs the sources even when the build is current (development, and the
// test that checks signals are forwarded to the tsx child).
const fromSources = process.env.BOKA_FROM_SOURCES === '1' && tsxAvailable;

if (existsSync(compiled) && !fromSources && (state === 'fresh' || !tsxAvailable)) {
  // In-process: signals reach the command directly and there is no second Node start-up.
  await import(compiledUrl.href);
} else if (tsxAvailable) {
  const entry = fileURLToPath(new URL('../src/cli/index.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Forward the operator's signals (SIGTERM from a supervisor, Ctrl-C) so the command can shut
  // down cleanly; without this the child outlives `npx boka …` when the parent is terminated.
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  // Ctrl-C at a terminal already reaches the child (same foreground process group): forwarding
  // it too would count as a second Ctrl-C. Only forward SIGINT when no terminal sent it.
  process.on('SIGINT', () => {
    if (!process.stdin.isTTY) forward('SIGINT');
  });
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => forward(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, so our own parent sees what happened to the command.
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
} else {
  console.error('boka: no build in dist/ and no tsx to run the sources; run `npm run build`');
  process.exit(1);
}
