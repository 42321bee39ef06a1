import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What survives a router restart: the weight (with its version) and the phase a controller reported. */
export interface PersistedRouterState {
  readonly greenWeight: number;
  readonly version: number;
  readonly updatedAt: number;
  readonly phase: string | null;
}

/** Where the router keeps its state; the admin API writes here before a change is applied. */
export interface RouterStateStore {
  save(state: PersistedRouterState): Promise<void>;
}

export class StateFileError extends Error {
  override name = 'StateFileError';
}

function parseState(text: string, path: string): PersistedRouterState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StateFileError(`${path}: not JSON`);
  }
  const s = raw as Partial<Record<keyof PersistedRouterState, unknown>>;
  const weightOk = typeof s.greenWeight === 'number' && s.greenWeight >= 0 && s.greenWeight <= 100;
  const versionOk = Number.isSafeInteger(s.version) && (s.version as number) >= 0;
  const updatedOk = typeof s.updatedAt === 'number' && Number.isFinite(s.updatedAt);
  const phaseOk = s.phase === null || s.phase === undefined || typeof s.phase === 'string';
  if (!weightOk || !versionOk || !updatedOk || !phaseOk) throw new StateFileError(`${path}: expected {greenWeight: 0..100, version, updatedAt, phase}`);
  return { greenWeight: s.greenWeight as number, version: s.version as number, updatedAt: s.updatedAt as number, phase: (s.phase as string | null | undefined) ?? null };
}

/**
 * Reads the state file: null when it does not exist yet. A file that exists but cannot be
 * read or parsed is an error, never "weight 0": after a promotion, 0 % would send every
 * client back to a release that may be gone (fail closed, the operator decides).
 */
export async function readStateFile(path: string): Promise<PersistedRouterState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StateFileError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseState(text, path);
}

/**
 * A store that replaces the file atomically: write a temporary file in the same directory,
 * fsync it, rename it over the old one, fsync the directory. A crash leaves either the old or
 * the new state, never a torn file. Saves are serialized so the last one wins.
 */
export function createStateFileStore(path: string): RouterStateStore {
  let chain: Promise<void> = Promise.resolve();
  async function write(state: PersistedRouterState): Promise<void> {
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(state)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } catch {
      // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
    } finally {
      await dir.close();
    }
  }
  return {
    save(state) {
      const next = chain.then(() => write(state));
      chain = next.catch(() => undefined);
      return next;
    },
  };
}
