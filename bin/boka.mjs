#!/usr/bin/env node
// `boka …`: runs the compiled CLI (dist/) when the build is current, so a production install
// (`npm ci --omit=dev`) needs no TypeScript tooling; in a checkout whose sources are newer than
// the build (or never built), runs the TypeScript sources through tsx instead.
import { spawnSync } from 'node:child_process';
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

if (existsSync(compiled) && (state === 'fresh' || !tsxAvailable)) {
  // In-process: signals reach the command directly and there is no second Node start-up.
  await import(compiledUrl.href);
} else if (tsxAvailable) {
  const entry = fileURLToPath(new URL('../src/cli/index.ts', import.meta.url));
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
} else {
  console.error('boka: no build in dist/ and no tsx to run the sources; run `npm run build`');
  process.exit(1);
}
