import { randomUUID } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** Who holds an embedded data directory (the JSON inside `<dataDir>.lock`). */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** `pid:[inode]` of the holder's pid namespace: a pid means nothing outside it (containers). */
  pidNamespace: string | null;
  /** Kernel start time of the holder (/proc/<pid>/stat field 22): tells a reused pid apart. */
  startTime: string | null;
  command: string;
  since: string;
  token: string;
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly path: string,
    readonly holder: LockOwner | null,
    readonly staleAfterMs: number,
  ) {
    const who = holder ? `pid ${holder.pid} on ${holder.hostname} (${holder.command}), since ${holder.since}` : 'a process still writing its lock';
    super(
      `the embedded database is in use by ${who}. PGlite allows one process per data directory: ` +
        `stop that process and run this again (lock file ${path}; a holder in another host or container ` +
        `that died leaves it stale ${Math.round(staleAfterMs / 1000)} s after its last heartbeat)`,
    );
  }
}

const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;

function readStartTime(pid: number | 'self'): string | null {
  try {
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readPidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

function readOwner(path: string): { owner: LockOwner | null; mtimeMs: number } | null {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    let owner: LockOwner | null = null;
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    } catch {
      owner = null; // being written right now, or garbage: only its age can free it
    }
    return { owner, mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Whether the recorded holder is certainly gone. Unknown (another host or pid namespace) → by heartbeat age. */
function isStale(found: { owner: LockOwner | null; mtimeMs: number }, self: LockOwner, now: number, staleMs: number): boolean {
  const { owner } = found;
  if (owner && owner.hostname === self.hostname && owner.pidNamespace !== null && owner.pidNamespace === self.pidNamespace) {
    if (owner.startTime === null) {
      try {
        process.kill(owner.pid, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    return readStartTime(owner.pid) !== owner.startTime;
  }
  return now - found.mtimeMs > staleMs;
}

/**
 * Takes the exclusive lock `<dataDir>.lock` (created with O_EXCL, owner pid/host/namespace in
 * it, mtime refreshed every 5 s) or throws DataDirLockedError naming the holder. A lock whose
 * holder is gone (same pid namespace: pid not running, or reused by another process; elsewhere:
 * no heartbeat for 30 s) is taken over. Lives next to the data directory, not inside it, so
 * backups of the directory never carry it.
 */
export function acquireDataDirLock(dataDir: string, opts: { command?: string; staleMs?: number; heartbeatMs?: number } = {}): DataDirLock {
  const path = `${resolve(dataDir)}.lock`;
  const staleMs = opts.staleMs ?? STALE_MS;
  const self: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    pidNamespace: readPidNamespace(),
    startTime: readStartTime('self'),
    command: (opts.command ?? process.argv.slice(1).join(' ')).slice(0, 200),
    since: new Date().toISOString(),
    token: randomUUID(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const found = readOwner(path);
      if (found === null) continue; // released in between
      if (!isStale(found, self, Date.now(), staleMs)) throw new DataDirLockedError(path, found.owner, staleMs);
      takeOverStale(path, found.owner);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(self)}\n`);
    } finally {
      closeSync(fd);
    }
    return holdLock(path, self.token, opts.heartbeatMs ?? HEARTBEAT_MS);
  }
  throw new DataDirLockedError(path, readOwner(path)?.owner ?? null, staleMs);
}

/**
 * Moves a stale lock aside atomically; if what was moved is not the lock judged stale (another
 * process took it over in between), puts it back, and the next attempt sees a live holder.
 */
function takeOverStale(path: string, stale: LockOwner | null): void {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readOwner(aside);
  if (moved && moved.owner?.token !== stale?.token) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone created a new lock meanwhile: theirs stands, the next attempt reads it.
    }
  }
  unlinkSync(aside);
}

function holdLock(path: string, token: string, heartbeatMs: number): DataDirLock {
  const ownsLock = () => readOwner(path)?.owner?.token === token;
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // A vanished lock file is noticed by the next process, not fatal to this one.
    }
  }, heartbeatMs);
  heartbeat.unref();
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      if (ownsLock()) unlinkSync(path);
    },
  };
}
