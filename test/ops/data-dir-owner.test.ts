import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, ROOT, spawnBoka, type BokaProcess } from './helpers/processes.js';

/**
 * One owner per embedded data directory: with the server running, every CLI command that opens
 * the directory is refused, naming the server; nothing either wrote is lost. Real processes on
 * the compiled build (bin/boka.mjs runs dist/ when it is current).
 */
const dir = mkdtempSync(join(tmpdir(), 'boka-owner-'));
const env = { BOKA_DATA_DIR: join(dir, 'data'), BACKUP_DIR: join(dir, 'backups'), SHUTDOWN_TIMEOUT_MS: '10000' };

function boka(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/boka.mjs', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function kids(p: BokaProcess): Promise<string[]> {
  const res = await fetch(`${p.url}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();
}

const start = () => spawnBoka(env, 60_000, { command: [process.execPath, 'dist/main.js'] });

describe('the embedded database has one owner', () => {
  before(() => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  });
  after(async () => {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('server running: every command that opens the directory, and a second server, are refused naming it', async () => {
    // A backup to try restoring, taken before anything holds the directory.
    const backup = await boka(['db', 'backup']);
    assert.equal(backup.code, 0, backup.stderr);
    const file = join(env.BACKUP_DIR, readdirSync(env.BACKUP_DIR).find((f) => f.endsWith('.tar.gz'))!);

    const server = await start();
    const keysBefore = await kids(server);
    const commands = [
      ['db', 'status'],
      ['db', 'migrate'],
      ['keys', 'rotate'],
      ['keys', 'list'],
      ['audit', 'verify'],
      ['admin', 'create-superadmin', '--email', 'root@example.test', '--password-stdin'],
      ['db', 'backup'],
      ['db', 'restore', file, '--yes'],
    ];
    for (const args of commands) {
      const res = await boka(args, 'a long enough password\n');
      assert.equal(res.code, 1, `boka ${args.join(' ')} was not refused: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, new RegExp(`in use by pid ${server.child.pid} on `), `boka ${args.join(' ')}: ${res.stderr}`);
    }
    await assert.rejects(start(), new RegExp(`exited with 1 before listening:[\\s\\S]*in use by pid ${server.child.pid}`));

    // Nothing was half-applied: the server's keys are unchanged, and it still serves.
    assert.deepEqual(await kids(server), keysBefore);
    assert.equal((await fetch(`${server.url}/api/health/ready`)).status, 200);
    server.kill('SIGTERM');
    assert.equal(await server.exited, 0);

    // Once the owner is gone the same command applies, and what it wrote survives the next start.
    const rotate = await boka(['keys', 'rotate']);
    assert.equal(rotate.code, 0, rotate.stderr);
    const kid = /new signing key: (\S+)/.exec(rotate.stdout)?.[1];
    assert.ok(kid, rotate.stdout);
    const again = await start();
    assert.ok((await kids(again)).includes(kid), 'the rotated key was lost');
    again.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  });
});
