/**
 * `npm run bench:compare -- <ref>`: the per-request CPU of this working tree against a commit
 * (default `HEAD`), measured in the same run. `bench/servers/boka-server.ts` of both trees runs
 * beside the empty Fastify route, interleaved over `BENCH_ROUNDS` rounds (A B C A B C …), and the
 * server's CPU per request from /proc is the figure (`bench/http-ratios.ts`). This is how a
 * change on the per-request path states its gain: before and after in one run, never against a
 * figure from another day on a shared host.
 */
import { join } from 'node:path';
import { bokaTargets, emptyTarget, measureInterleaved, median, type BokaServerInfo, type Target } from './http-ratios.js';
import { spawnServer, stopServer } from './servers/spawn.js';
import { ROOT, withWorktree } from './worktree.js';

const ref = process.argv[2] ?? 'HEAD';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

await withWorktree(ref, async (tree) => {
  const servers: Array<Awaited<ReturnType<typeof spawnServer>>> = [];
  try {
    // One key for both servers: on a shared DATABASE_URL each must read the other's signing keys.
    const secret = Buffer.alloc(32, 7).toString('base64url');
    const empty = await spawnServer<{ port: number }>('./empty-server.ts');
    servers.push(empty);
    const trees: Array<[string, string]> = [[ref, tree], ['working tree', ROOT]];
    const targets: Array<{ label: string; health: Target; tenant: Target }> = [];
    for (const [name, dir] of trees) {
      const s = await spawnServer<BokaServerInfo>(join(dir, 'bench/servers/boka-server.ts'), { BOKA_SECRET_KEY: secret });
      servers.push(s);
      targets.push({ label: name, ...bokaTargets(s) });
    }
    const samples = await measureInterleaved(emptyTarget(empty), targets, ROUNDS);
    const cpus = (key: string) => samples.get(key)!.map((s) => s.cpuUs);
    const show = (key: string) => {
      const xs = [...cpus(key)].sort((a, b) => a - b);
      const errors = samples.get(key)!.reduce((a, s) => a + s.errors, 0);
      return `${xs[0]!.toFixed(1)} / **${median(xs).toFixed(1)}** / ${xs.at(-1)!.toFixed(1)}${errors > 0 ? ` (${errors} non-2xx!)` : ''}`;
    };
    const emptyCpu = median(cpus('empty'));
    console.log(`### Server CPU µs per request, min / **median** / max of ${ROUNDS} interleaved rounds (empty Fastify route: ${show('empty')})\n`);
    console.log('| tree | `GET /api/health` | × empty | `GET /api/tenants/:id` | × empty |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const t of targets) {
      const h = median(cpus(`health ${t.label}`));
      const n = median(cpus(`tenant ${t.label}`));
      console.log(`| ${t.label} | ${show(`health ${t.label}`)} | ${(h / emptyCpu).toFixed(2)}× | ${show(`tenant ${t.label}`)} | ${(n / emptyCpu).toFixed(2)}× |`);
    }
    const delta = (route: string) => (median(cpus(`${route} working tree`)) - median(cpus(`${route} ${ref}`))).toFixed(1);
    console.log(`\nDifference of medians (working tree − ${ref}): health ${delta('health')} µs, tenant ${delta('tenant')} µs.`);
  } finally {
    await Promise.all(servers.map((s) => stopServer(s.child)));
  }
});
