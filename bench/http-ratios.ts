/**
 * The per-request tax, measured as issue 16 asks: Boka's public route and authenticated route
 * against an empty Fastify route, interleaved over several rounds (A B C A B C …), once with
 * the processes free to move and once pinned (server on one core, this load generator on the
 * other). The primary figure is the server's own CPU per request from /proc, which the
 * co-located load generator cannot distort; req/s and p99 are reported beside it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { spawnServer, stopServer } from './servers/spawn.js';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 100;

/** Goals of issue 16 (same-run ratios). */
export const GOALS = { tenantCpu: 2.0, healthCpu: 1.4, tenantRps: 0.6 } as const;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; USER_HZ = 100). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface Sample { rps: number; p99: number; errors: number; cpuUs: number }
export interface Target { name: string; url: string; pid: number; headers: Record<string, string> }

/** One settle second, then `BENCH_DURATION` seconds of autocannon; the server's CPU per request from /proc. */
export async function measure(t: Target): Promise<Sample> {
  await autocannon({ url: t.url, connections: CONNECTIONS, duration: 1, headers: t.headers }); // settle
  const before = cpuSeconds(t.pid);
  const r = await autocannon({ url: t.url, connections: CONNECTIONS, duration: DURATION_S, headers: t.headers });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuUs: ((cpuSeconds(t.pid) - before) / r.requests.total) * 1e6 };
}

function pin(pid: number, cpu: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits = 0) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(digits)} / **${median(xs).toFixed(digits)}** / ${s.at(-1)!.toFixed(digits)}`;
};
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

/** What bench/servers/boka-server.ts prints once it listens. */
export interface BokaServerInfo { port: number; token: string; tenantId: string }

/** The public and the authenticated route of one running benchmark server. */
export function bokaTargets(s: { info: BokaServerInfo; child: { pid?: number } }): { health: Target; tenant: Target } {
  const base = `http://127.0.0.1:${s.info.port}`;
  return {
    health: { name: 'health', url: `${base}/api/health`, pid: s.child.pid!, headers: {} },
    tenant: { name: 'tenant', url: `${base}/api/tenants/${s.info.tenantId}`, pid: s.child.pid!, headers: { authorization: `Bearer ${s.info.token}` } },
  };
}

/**
 * Measures the empty route and each labelled Boka server's two routes, interleaved over `rounds`
 * (empty, A health, A tenant, B health, …, then again): samples by `empty`, `health <label>`
 * and `tenant <label>`.
 */
export function emptyTarget(s: { info: { port: number }; child: { pid?: number } }): Target {
  return { name: 'empty', url: `http://127.0.0.1:${s.info.port}/empty`, pid: s.child.pid!, headers: {} };
}

export async function measureInterleaved(
  empty: Target,
  servers: ReadonlyArray<{ label: string; health: Target; tenant: Target }>,
  rounds: number,
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>();
  const add = (key: string, s: Sample) => samples.set(key, [...(samples.get(key) ?? []), s]);
  for (let round = 0; round < rounds; round++) {
    add('empty', await measure(empty));
    for (const t of servers) {
      add(`health ${t.label}`, await measure(t.health));
      add(`tenant ${t.label}`, await measure(t.tenant));
    }
  }
  return samples;
}

export async function benchHttpRatios(): Promise<string[]> {
  const empty = await spawnServer<{ port: number }>('./empty-server.ts');
  const boka = await spawnServer<{ port: number; token: string; tenantId: string }>('./boka-server.ts');
  const targets: Target[] = [
    { name: 'empty Fastify route (baseline)', url: `http://127.0.0.1:${empty.info.port}/empty`, pid: empty.child.pid!, headers: {} },
    { name: 'Boka `GET /api/health` (public)', url: `http://127.0.0.1:${boka.info.port}/api/health`, pid: boka.child.pid!, headers: {} },
    {
      name: 'Boka `GET /api/tenants/:id` (authenticated, from caches)',
      url: `http://127.0.0.1:${boka.info.port}/api/tenants/${boka.info.tenantId}`,
      pid: boka.child.pid!,
      headers: { authorization: `Bearer ${boka.info.token}` },
    },
  ];
  const canPin = cpus().length >= 2;
  const modes = canPin ? (['unpinned', 'pinned'] as const) : (['unpinned'] as const);
  const lines: string[] = [
    `### (a) HTTP: the per-request tax against an empty Fastify route (${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION_S} s per target and mode)`,
    '',
    'Figures are min / **median** / max over the rounds. Pinned: each server on CPU 1, the load generator on CPU 0.',
    '',
  ];
  const verdicts: string[] = ['| goal (medians, same run) | ' + modes.join(' | ') + ' |', '| --- |' + modes.map(() => ' ---: |').join('')];
  const ratioRows: Record<string, string[]> = { tenantCpu: [], healthCpu: [], tenantRps: [] };
  try {
    for (const mode of modes) {
      if (mode === 'pinned') {
        for (const t of [empty, boka]) pin(t.child.pid!, '1');
        pin(process.pid, '0');
      }
      const samples = targets.map(() => [] as Sample[]);
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const [i, t] of targets.entries()) samples[i]!.push(await measure(t));
      }
      lines.push(
        `#### ${mode}`,
        '',
        '| target | server CPU µs / request | req/s | p99 ms | errors |',
        '| --- | ---: | ---: | ---: | ---: |',
        ...targets.map((t, i) => {
          const s = samples[i]!;
          return `| ${t.name} | ${spread(s.map((x) => x.cpuUs))} | ${spread(s.map((x) => x.rps))} | ${spread(s.map((x) => x.p99))} | ${s.reduce((a, x) => a + x.errors, 0)} |`;
        }),
        '',
      );
      const med = (i: number, f: (x: Sample) => number) => median(samples[i]!.map(f));
      const tenantCpu = med(2, (x) => x.cpuUs) / med(0, (x) => x.cpuUs);
      const healthCpu = med(1, (x) => x.cpuUs) / med(0, (x) => x.cpuUs);
      const tenantRps = med(2, (x) => x.rps) / med(0, (x) => x.rps);
      ratioRows.tenantCpu!.push(`${tenantCpu.toFixed(2)}× ${verdict(tenantCpu <= GOALS.tenantCpu)}`);
      ratioRows.healthCpu!.push(`${healthCpu.toFixed(2)}× ${verdict(healthCpu <= GOALS.healthCpu)}`);
      ratioRows.tenantRps!.push(`${tenantRps.toFixed(2)} ${verdict(tenantRps >= GOALS.tenantRps)}`);
    }
  } finally {
    if (canPin) pin(process.pid, '0-' + String(cpus().length - 1));
    await stopServer(empty.child);
    await stopServer(boka.child);
  }
  verdicts.push(
    `| authenticated CPU / empty CPU ≤ ${GOALS.tenantCpu}× | ${ratioRows.tenantCpu!.join(' | ')} |`,
    `| public health CPU / empty CPU ≤ ${GOALS.healthCpu}× | ${ratioRows.healthCpu!.join(' | ')} |`,
    `| authenticated req/s / empty req/s ≥ ${GOALS.tenantRps} | ${ratioRows.tenantRps!.join(' | ')} |`,
  );
  return [...lines, ...verdicts];
}
