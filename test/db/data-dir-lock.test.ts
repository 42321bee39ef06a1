import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireDataDirLock, DataDirLockedError, type LockOwner } from '../../src/db/data-dir-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'boka-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshDataDir = () => join(dir, `data-${++n}`);

function writeLock(dataDir: string, owner: Partial<LockOwner>, ageMs = 0): void {
  const path = `${dataDir}.lock`;
  writeFileSync(path, JSON.stringify({ hostname: hostname(), command: 'old boka', since: 'then', token: 'old', startTime: null, pidNamespace: null, pid: 1, ...owner }));
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
}

const ownNamespace = () => readlinkSync('/proc/self/ns/pid');

describe('embedded data-directory lock', () => {
  it('is exclusive: a second holder is refused with the owner named, and can take it after release', () => {
    const dataDir = freshDataDir();
    const lock = acquireDataDirLock(dataDir, { command: 'boka server' });
    const owner = JSON.parse(readFileSync(`${dataDir}.lock`, 'utf8')) as LockOwner;
    assert.equal(owner.pid, process.pid);
    assert.throws(
      () => acquireDataDirLock(dataDir, { command: 'boka keys rotate' }),
      (e) => e instanceof DataDirLockedError && e.message.includes(`pid ${process.pid} on ${hostname()} (boka server)`),
    );
    lock.release();
    assert.equal(existsSync(`${dataDir}.lock`), false);
    acquireDataDirLock(dataDir).release();
  });

  it('takes over the lock of a process that is gone (same pid namespace)', () => {
    const dataDir = freshDataDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeLock(dataDir, { pid: Number(dead.stdout), pidNamespace: ownNamespace(), startTime: '1' });
    const lock = acquireDataDirLock(dataDir);
    assert.equal((JSON.parse(readFileSync(`${dataDir}.lock`, 'utf8')) as LockOwner).pid, process.pid);
    lock.release();
  });

  it('a reused pid is not the holder: another start time means the holder is gone', () => {
    const dataDir = freshDataDir();
    // Our own pid, with a start time that is not ours: the process that wrote it is dead.
    writeLock(dataDir, { pid: process.pid, pidNamespace: ownNamespace(), startTime: '1' });
    acquireDataDirLock(dataDir).release();
  });

  it('another host or container: held while its heartbeat is fresh, stale once it stops', () => {
    const dataDir = freshDataDir();
    writeLock(dataDir, { pid: 1, hostname: 'other-container', pidNamespace: 'pid:[1]' }, 1_000);
    assert.throws(() => acquireDataDirLock(dataDir, { staleMs: 30_000 }), /pid 1 on other-container/);
    writeLock(dataDir, { pid: 1, hostname: 'other-container', pidNamespace: 'pid:[1]' }, 60_000);
    acquireDataDirLock(dataDir, { staleMs: 30_000 }).release();
  });

  it('the holder keeps its heartbeat fresh, and release never removes a lock it does not own', async () => {
    const dataDir = freshDataDir();
    const lock = acquireDataDirLock(dataDir, { heartbeatMs: 20 });
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${dataDir}.lock`, old, old);
    await new Promise((r) => setTimeout(r, 100));
    assert.throws(() => acquireDataDirLock(dataDir, { staleMs: 30_000 }), DataDirLockedError);
    writeLock(dataDir, { pid: 1, hostname: 'other', token: 'theirs' });
    lock.release();
    assert.equal((JSON.parse(readFileSync(`${dataDir}.lock`, 'utf8')) as LockOwner).token, 'theirs');
  });
});
