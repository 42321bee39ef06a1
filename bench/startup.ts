/**
 * `npm run bench:startup`: time to ready and resident memory of one Boka process, TypeScript
 * through tsx (`node --import tsx src/main.ts`, what `npm start` ran before the build) against
 * the compiled build (`node dist/main.js`), on PGlite and (with DATABASE_URL, or the local
 * server at postgres://root@127.0.0.1:5432/test) on PostgreSQL, in the same run.
 * Cold = first start on a new data directory / new database (migrations run); warm = the next
 * start on the same one. Time to ready: spawn → first 200 from /api/health/ready. RSS: VmRSS
 * right after ready and after 200 sequential requests. Prints a Markdown table.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { machineHeader, percentile } from './machine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const serverUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const variants = {
  tsx: [process.execPath, '--import', 'tsx', 'src/main.ts'],
  compiled: [process.execPath, 'dist/main.js'],
} as const;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) / 1024;
}

async function startOnce(cmd: readonly string[], env: Record<string, string>, port: number): Promise<{ readyMs: number; rss: number; rssAfter: number }> {
  const t0 = performance.now();
  const child = spawn(cmd[0]!, cmd.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/api/health/ready`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (child.exitCode !== null) throw new Error(`${cmd.join(' ')} exited with ${child.exitCode}`);
      if (performance.now() - t0 > 120_000) throw new Error('not ready within 120 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - t0;
    const rss = rssMiB(child.pid!);
    for (let i = 0; i < 200; i++) await (await fetch(`http://127.0.0.1:${port}/api/health`)).arrayBuffer();
    return { readyMs, rss, rssAfter: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function serverReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

async function withScratchDb<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `boka_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    return await fn(u.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

type Row = { variant: string; database: string; phase: 'cold' | 'warm'; ready: number[]; rss: number[]; rssAfter: number[] };

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const databases: Array<'PGlite' | 'PostgreSQL'> = ['PGlite'];
  if (await serverReachable()) databases.push('PostgreSQL');
  else console.error(`PostgreSQL at ${serverUrl} not reachable: PGlite only`);
  const rows: Row[] = [];
  const secret = randomBytes(32).toString('base64url');
  let port = 3950;
  for (let run = 0; run < RUNS; run++) {
    // Interleaved (tsx, compiled, tsx, …) so machine load drifts hit both alike.
    for (const database of databases) {
      for (const [variant, cmd] of Object.entries(variants)) {
        const once = async (env: Record<string, string>) => {
          for (const phase of ['cold', 'warm'] as const) {
            const r = await startOnce(cmd, env, port++);
            let row = rows.find((x) => x.variant === variant && x.database === database && x.phase === phase);
            if (!row) rows.push((row = { variant, database, phase, ready: [], rss: [], rssAfter: [] }));
            row.ready.push(r.readyMs);
            row.rss.push(r.rss);
            row.rssAfter.push(r.rssAfter);
          }
        };
        if (database === 'PGlite') {
          const dir = mkdtempSync(join(tmpdir(), 'boka-bench-'));
          try {
            await once({ BOKA_DATA_DIR: join(dir, 'data') });
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        } else {
          await withScratchDb((url) => once({ DATABASE_URL: url, BOKA_SECRET_KEY: secret }));
        }
      }
    }
  }
  const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  console.log(machineHeader());
  console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${RUNS} runs each, medians (range)\n`);
  console.log('| database | start | how | time to ready, ms | RSS at ready, MiB | RSS after 200 requests, MiB |');
  console.log('| --- | --- | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.database} | ${r.phase} | ${r.variant === 'tsx' ? '`node --import tsx src/main.ts`' : '`node dist/main.js`'} | ` +
        `${med(r.ready).toFixed(0)} (${range(r.ready)}) | ${med(r.rss).toFixed(0)} | ${med(r.rssAfter).toFixed(0)} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
