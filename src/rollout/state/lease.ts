import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export interface Lease {
  readonly path: string;
  release(): Promise<void>;
}

export interface LeaseOwner {
  readonly pid: number;
  readonly host: string;
  readonly rolloutId: string;
  readonly target: string;
  readonly since: string;
}

export class LeaseHeldError extends Error {
  constructor(readonly target: string, readonly owner: LeaseOwner | null) {
    super(
      `another controller holds the lease for ${target}` +
        (owner ? ` (pid ${owner.pid} on ${owner.host}, rollout ${owner.rolloutId}, since ${owner.since})` : '') +
        '; stop it first (SIGTERM lets it release the lease), or wait until its lease goes stale after it died',
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One controller per target (router, nginx include, embedded listener) among the controllers
 * sharing `reportRoot`: a `proper-lockfile` lock (an atomic mkdir whose mtime the holder
 * refreshes every `staleMs / 5`; stale after `staleMs`). A holder on this host whose pid is gone
 * (kill -9) is taken over at once instead of waiting for staleness. `onLost` runs if the lock is
 * compromised (its mtime could not be refreshed, or someone removed it): the caller must stop.
 */
export async function acquireLease(reportRoot: string, target: string, rolloutId: string, onLost: (error: Error) => void, staleMs = 10_000): Promise<Lease> {
  const dir = join(reportRoot, '.leases');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, createHash('sha256').update(target).digest('hex').slice(0, 16));
  const ownerPath = `${path}.owner.json`;
  const readOwner = (): LeaseOwner | null => {
    try {
      return JSON.parse(readFileSync(ownerPath, 'utf8')) as LeaseOwner;
    } catch {
      return null;
    }
  };
  const options = { stale: staleMs, update: Math.max(1_000, Math.floor(staleMs / 5)), realpath: false, onCompromised: onLost };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = readOwner();
    if (!owner || owner.host !== hostname() || isAlive(owner.pid)) throw new LeaseHeldError(target, owner);
    // The holder died on this host without releasing (kill -9): take the lease over now.
    rmdirSync(`${path}.lock`);
    try {
      release = await lockfile.lock(path, options);
    } catch (retryError) {
      if ((retryError as NodeJS.ErrnoException).code === 'ELOCKED') throw new LeaseHeldError(target, readOwner());
      throw retryError;
    }
  }
  const owner: LeaseOwner = { pid: process.pid, host: hostname(), rolloutId, target, since: new Date().toISOString() };
  writeFileSync(ownerPath, `${JSON.stringify(owner)}\n`);
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      rmSync(ownerPath, { force: true });
      await release().catch(() => undefined);
    },
  };
}
