/**
 * `npm run bench:ablation`: what each per-request feature costs, measured by taking it away.
 * Copies the committed HEAD into a temporary git worktree, applies `bench/ablation.patch` (each
 * hook or step can be left out with `BOKA_BENCH_ABLATE=name,…`; nothing in `src/` reads that
 * variable), starts one benchmark server per variant and measures `GET /api/health` and the
 * authenticated `GET /api/tenants/:id` against the empty Fastify route, interleaved over
 * `BENCH_ROUNDS` rounds, with the server's CPU per request from /proc as the figure.
 * `all` leaves out every feature at once: what is left is the cost of Boka's Fastify setup,
 * routing, validation, serialisation and (on the tenant route) authentication itself.
 * Refresh the patch when the hooks it edits move (`git apply` fails loudly when it no longer fits).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { bokaTargets, emptyTarget, measureInterleaved, median, type BokaServerInfo, type Target } from './http-ratios.js';
import { spawnServer, stopServer } from './servers/spawn.js';
import { ROOT, withWorktree } from './worktree.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FEATURES = {
  log: 'the request log line (onResponse; at LOG_LEVEL=warn only its object is built)',
  headers: 'the response headers: request id, security headers, no-store (onRequest; ADR 0028)',
  cors: 'the CORS hook and the preflight route',
  guard: 'the input guard: canonical ids, no NUL (preValidation)',
  metrics: 'HTTP metrics: counter + histogram (onResponse)',
  drain: 'the drain check (onSend)',
  steps: 'every pipeline step: CSRF, rate limit, MFA policy, superadmin audit, availability budget',
} as const;
const VARIANTS: Array<[string, string]> = [['none', ''], ...Object.keys(FEATURES).map((f): [string, string] => [f, f]), ['all', Object.keys(FEATURES).join(',')]];

await withWorktree('HEAD', async (tree) => {
  const servers: Array<Awaited<ReturnType<typeof spawnServer>>> = [];
  try {
    execFileSync('git', ['apply', join(ROOT, 'bench/ablation.patch')], { cwd: tree, stdio: 'inherit' });
    // One key for every server: on a shared DATABASE_URL each must read the others' signing keys.
    const secret = Buffer.alloc(32, 7).toString('base64url');
    const empty = await spawnServer<{ port: number }>('./empty-server.ts');
    servers.push(empty);
    const targets: Array<{ label: string; health: Target; tenant: Target }> = [];
    for (const [variant, ablate] of VARIANTS) {
      const s = await spawnServer<BokaServerInfo>(join(tree, 'bench/servers/boka-server.ts'), { BOKA_BENCH_ABLATE: ablate, BOKA_SECRET_KEY: secret });
      servers.push(s);
      targets.push({ label: variant, ...bokaTargets(s) });
    }
    const samples = await measureInterleaved(emptyTarget(empty), targets, ROUNDS);
    const cpu = (key: string) => median(samples.get(key)!.map((s) => s.cpuUs));
    const errors = (key: string) => samples.get(key)!.reduce((a, s) => a + s.errors, 0);
    const emptyCpu = cpu('empty');
    console.log(`### Ablation: server CPU µs per request, medians of ${ROUNDS} rounds (empty Fastify route: ${emptyCpu.toFixed(1)} µs)\n`);
    console.log('| left out | `GET /api/health` | saves | `GET /api/tenants/:id` | saves |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [variant] of VARIANTS) {
      const h = cpu(`health ${variant}`);
      const t = cpu(`tenant ${variant}`);
      const label = variant === 'none' ? 'nothing (Boka as shipped)' : variant === 'all' ? '**all of the above**' : `${variant}: ${FEATURES[variant as keyof typeof FEATURES]}`;
      const saves = (x: number, base: number) => (variant === 'none' ? '—' : (base - x).toFixed(1));
      const flag = errors(`health ${variant}`) + errors(`tenant ${variant}`) > 0 ? ' (non-2xx answers!)' : '';
      console.log(`| ${label}${flag} | ${h.toFixed(1)} (${(h / emptyCpu).toFixed(2)}×) | ${saves(h, cpu('health none'))} | ${t.toFixed(1)} (${(t / emptyCpu).toFixed(2)}×) | ${saves(t, cpu('tenant none'))} |`);
    }
  } finally {
    await Promise.all(servers.map((s) => stopServer(s.child)));
  }
});
