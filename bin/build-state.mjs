// Whether dist/ holds a build at least as new as every source file. Shared by bin/boka.mjs
// and scripts/build.mjs so the CLI never runs a stale build in a checkout.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** `missing` (no build), `stale` (a source is newer) or `fresh`; without src/ (an image) a build is fresh. */
export function readBuildState(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return 'missing';
  if (!existsSync(join(root, 'src'))) return 'fresh';
  const built = statSync(stamp).mtimeMs;
  const newest = Math.max(...INPUTS.filter((p) => existsSync(join(root, p))).map((p) => newestMtime(join(root, p))));
  return newest > built ? 'stale' : 'fresh';
}
