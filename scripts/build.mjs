// `npm run build`: compiles src/ to dist/ (tsc -p tsconfig.build.json, source maps) and copies
// the migration SQL next to the compiled migrator. `--if-stale` (the `prestart` hook) builds
// only when dist/ is missing or older than a source file, so a warm `npm start` does not pay
// for the compiler, and on a production install (no TypeScript, dist/ shipped) never builds.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBuildState } from '../bin/build-state.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function findCompiler() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

const tsc = findCompiler();
if (process.argv.includes('--if-stale')) {
  const state = readBuildState(root);
  if (state === 'fresh' || (state === 'stale' && !tsc)) process.exit(0);
  if (!tsc) {
    console.error('dist/ is missing and TypeScript is not installed: run `npm install` (with dev dependencies), then `npm run build`');
    process.exit(1);
  }
  console.error(`building dist/ (${state === 'missing' ? 'first start' : 'sources changed'}) …`);
} else if (!tsc) {
  console.error('`npm run build` needs the dev dependencies (TypeScript): run `npm install` first');
  process.exit(1);
}
const stamp = join(root, 'dist', '.build-stamp');
rmSync(stamp, { force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
cpSync(join(root, 'src/db/migrations'), join(root, 'dist/db/migrations'), { recursive: true });
// The rollout dashboard's browser files (served by src/rollout/control/static-assets.ts).
cpSync(join(root, 'src/rollout/control/ui'), join(root, 'dist/rollout/control/ui'), { recursive: true });
writeFileSync(stamp, `${new Date().toISOString()}\n`);
