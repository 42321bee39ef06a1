import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { MIGRATIONS_DIR } from '../../src/db/index.js';
import { ROOT } from '../ops/helpers/processes.js';

/** The newest shipped migration: its file name (escaped for a RegExp) and its version. */
const NEWEST_FILE = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+\.do\./.test(f)).sort().at(-1) ?? '';
const NEWEST = Number(/^(\d+)/.exec(NEWEST_FILE)?.[1] ?? 0);
const NEWEST_RE = NEWEST_FILE.replace(/\./g, '\\.');

/** Runs `boka db …` as an operator would (TypeScript sources through tsx), bounded by a timeout. */
function boka(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'db', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', BOKA_SECRET_KEY: randomBytes(32).toString('base64url'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`boka db ${args.join(' ')} did not finish in 120 s:\n${out}\n${err}`));
    }, 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const serverUrl = process.env.DATABASE_URL;

describe(`boka db migrate --plan | --dry-run | apply (${serverUrl ? 'PostgreSQL' : 'PGlite'})`, () => {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  before(async () => {
    if (serverUrl) {
      const name = `boka_cli_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      env = { DATABASE_URL: url.toString() };
      cleanup = async () => {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'boka-cli-'));
      env = { BOKA_DATA_DIR: join(dir, 'data') };
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  after(async () => {
    await cleanup();
  });

  test('--plan lists every pending migration with its phase, applies nothing, exits 0; migrate applies; status agrees', async () => {
    for (const flag of ['--plan', '--dry-run']) {
      const plan = await boka(env, 'migrate', flag);
      assert.equal(plan.code, 0, plan.err);
      assert.match(plan.out, /database at migration 0; pending:/);
      assert.match(plan.out, /001\.do\.auth-core\.sql\s+expand\s+apply/);
      assert.match(plan.out, new RegExp(`${NEWEST_RE}\\s+expand\\s+apply`));
      assert.doesNotMatch(plan.out, /^applied/m);
    }
    const before = await boka(env, 'status');
    assert.equal(before.code, 1, 'still unmigrated after --plan');

    const applied = await boka(env, 'migrate', '--phase', 'expand');
    assert.equal(applied.code, 0, applied.err);
    assert.match(applied.out, new RegExp(`applied 001\\.do\\.auth-core\\.sql, .*${NEWEST_RE}; database at migration ${NEWEST}`));

    const status = await boka(env, 'status');
    assert.equal(status.code, 0, status.err);
    assert.deepEqual(JSON.parse(status.out), { current: NEWEST, latest: NEWEST, required: NEWEST });

    const again = await boka(env, 'migrate', '--plan');
    assert.equal(again.code, 0);
    assert.match(again.out, new RegExp(`database at migration ${NEWEST}: nothing pending`));

    // --json: one document on stdout, the human plan on stderr.
    const json = await boka(env, 'migrate', '--plan', '--json');
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(JSON.parse(json.out), { current: NEWEST, complete: true, steps: [], findings: [] });
    assert.match(json.err, /nothing pending/);
  });

  test('an unknown phase is a usage error', async () => {
    const r = await boka(env, 'migrate', '--phase', 'contractish');
    assert.equal(r.code, 2);
    assert.match(r.err, /option --phase must be one of expand, all/);
    assert.match(r.err, /see .boka db migrate --help./);
  });
});
