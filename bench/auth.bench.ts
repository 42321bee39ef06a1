/**
 * Auth-core benchmarks (issue: walking skeleton):
 *  (a) authenticated GET /api/tenants/:id and public GET /api/health vs an empty Fastify route,
 *      autocannon, interleaved rounds, unpinned and pinned, with issue 16's ratios (http-ratios.ts);
 *  (b) authenticate + authorize in process with warm caches: per-call latency distribution;
 *  (c) one permission check: Boka's compiled matrix vs @casl/ability on the same matrix.
 */
import { randomBytes } from 'node:crypto';
import { createMongoAbility } from '@casl/ability';
import { buildServices } from '../src/app.js';
import { NO_META } from '../src/shared/events.js';
import { authenticate } from '../src/access/index.js';
import { createAccessTokenStrategy } from '../src/auth/access-token.strategy.js';
import { authorize } from '../src/access/authorize.core.js';
import { ALL_PERMISSIONS, hasPermission, PERMISSIONS, type Permission, type TenantRole } from '../src/access/permissions.js';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/db/index.js';
import { percentile } from './machine.js';
import { benchHttpRatios } from './http-ratios.js';

async function benchInProcess(): Promise<string[]> {
  const config = loadConfig({ NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') });
  const db = await openDatabase(config);
  const services = await buildServices(config, { db });
  const signup = await services.accounts.signup(
    { email: 'inproc@example.test', password: 'bench password 123', name: 'B' },
    { requestId: null, ip: null, userAgent: null },
  );
  const tenant = await services.tenancy.createTenant({ userId: signup.user.id, meta: NO_META }, { name: 'T', slug: 'inproc' });
  const strategies = [createAccessTokenStrategy(services)];
  const credential = { kind: 'bearer' as const, token: signup.accessToken };
  const meta = { requestId: null, ip: null, userAgent: null };

  async function once(): Promise<boolean> {
    const principal = await authenticate(strategies, credential, meta);
    const role = await services.memberships.resolve(tenant.id, signup.user.id);
    return authorize(principal, 'tenant.read', { tenantId: tenant.id, role }).allowed;
  }
  for (let i = 0; i < 2_000; i += 1) await once(); // warm caches and JIT
  const samples: number[] = [];
  const N = 100_000;
  for (let i = 0; i < N; i += 1) {
    const t0 = process.hrtime.bigint();
    const ok = await once();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (!ok) throw new Error('benchmark principal was denied');
  }
  samples.sort((a, b) => a - b);
  // Cold path for comparison: ECDSA verification of a token not seen before.
  const cold: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    const fresh = await services.tokens.sign({ userId: signup.user.id, sessionId: signup.sessionId });
    const t0 = process.hrtime.bigint();
    await services.tokens.verify(fresh.token);
    cold.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  cold.sort((a, b) => a - b);
  await db.close();
  return [
    `### (b) authenticate + authorize in process, warm caches (${N.toLocaleString('en')} calls)`,
    '',
    '| path | p50 µs | p99 µs | max µs |',
    '| --- | ---: | ---: | ---: |',
    `| cached token + session + membership, then authorize() | ${percentile(samples, 50).toFixed(1)} | ${percentile(samples, 99).toFixed(1)} | ${samples.at(-1)!.toFixed(0)} |`,
    `| first sight of a token: ES256 verification alone | ${percentile(cold, 50).toFixed(1)} | ${percentile(cold, 99).toFixed(1)} | ${cold.at(-1)!.toFixed(0)} |`,
    '',
    'Goal: warm p99 ≤ 50 µs. A token is verified cryptographically once per instance, then cached until its `exp`;',
    'the session-liveness and membership checks hit in-process caches that revocation invalidates.',
  ];
}

function benchPermissionCheck(): string[] {
  // The same matrix in CASL: one ability per role, rules generated from Boka's compiled table.
  const roles: TenantRole[] = ['owner', 'manager', 'staff', 'customer', 'guest'];
  const abilities = new Map(
    roles.map((role) => [
      role,
      createMongoAbility(
        [...PERMISSIONS.get(role)!].map((p) => {
          const dot = p.lastIndexOf('.');
          return { action: p.slice(dot + 1), subject: p.slice(0, dot) };
        }),
      ),
    ]),
  );
  const checks: Array<[TenantRole, Permission, string, string]> = [];
  for (const role of roles) {
    for (const p of ALL_PERMISSIONS) {
      const dot = p.lastIndexOf('.');
      checks.push([role, p, p.slice(dot + 1), p.slice(0, dot)]);
    }
  }
  const N = 2_000_000;
  let sink = 0;
  const time = (fn: (i: number) => boolean) => {
    for (let i = 0; i < 100_000; i += 1) sink += fn(i) ? 1 : 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) sink += fn(i) ? 1 : 0;
    return Number(process.hrtime.bigint() - t0) / N;
  };
  const boka = time((i) => {
    const c = checks[i % checks.length]!;
    return hasPermission(c[0], c[1]);
  });
  const casl = time((i) => {
    const c = checks[i % checks.length]!;
    return abilities.get(c[0])!.can(c[2], c[3]);
  });
  // Sanity: both engines agree on every check.
  for (const c of checks) {
    if (hasPermission(c[0], c[1]) !== abilities.get(c[0])!.can(c[2], c[3])) throw new Error(`engines disagree on ${c[0]} ${c[1]}`);
  }
  return [
    `### (c) one permission check (${N.toLocaleString('en')} checks over all ${checks.length} role × permission pairs)`,
    '',
    '| engine | ns / check |',
    '| --- | ---: |',
    `| Boka compiled matrix (\`hasPermission\`) | ${boka.toFixed(1)} |`,
    `| @casl/ability \`can()\`, same matrix | ${casl.toFixed(1)} |`,
    '',
    `Goal: ≤ 1 µs (1000 ns). (checksum ${sink % 7})`,
  ];
}

export async function run(): Promise<string> {
  const sections = ['## Auth core', '', ...benchPermissionCheck(), '', ...(await benchInProcess()), '', ...(await benchHttpRatios())];
  return sections.join('\n');
}
