/**
 * `npm run bench:profile -- [tenant|health|empty] [--duration S] [--out FILE]`: where a request's
 * server CPU goes. Starts the HTTP benchmark's Boka server (bench/servers/boka-server.ts), or the
 * empty Fastify route for comparison, warms it, samples only the measured autocannon phase (100 connections) with V8's profiler, and prints
 * the top frames by self time and the same time grouped by package / source file. The raw
 * `.cpuprofile` (open in Chrome DevTools or speedscope) is kept at --out.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { spawnServer, stopServer } from './servers/spawn.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { duration: { type: 'string', default: '10' }, out: { type: 'string', default: '/tmp/boka-bench.cpuprofile' }, top: { type: 'string', default: '25' } },
});
const target = positionals[0] ?? 'tenant';
if (!['tenant', 'health', 'empty'].includes(target)) throw new Error('target is tenant, health or empty');
const out = values.out;

/** Where a frame's code lives: an npm package name, a project file, or a V8/Node bucket. */
export function origin(url: string): string {
  if (!url) return '(native/V8)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  if (url.startsWith('node:')) return 'node: core';
  return url;
}

/** Self time per frame and per origin: share of the busy samples and µs per request. */
export function summarise(profile: CpuProfile, top: number, requests: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  const frames = new Map<string, number>();
  const origins = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += us;
    const key = `${functionName || '(anonymous)'} ${origin(url)}:${lineNumber + 1}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const o = functionName === '(garbage collector)' ? '(garbage collector)' : origin(url);
    origins.set(o, (origins.get(o) ?? 0) + us);
  }
  // Inclusive: samples whose stack holds the origin anywhere (each sample counted once per origin).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const fn = byId.get(id)!.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (f.url) seen.add(origin(f.url));
    }
    for (const o of seen) inclusive.set(o, (inclusive.get(o) ?? 0) + us);
  }
  const cell = (us: number) => `${((100 * us) / total).toFixed(1)} % | ${(us / requests).toFixed(1)}`;
  const rows = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `| ${k} | ${cell(us)} |`);
  return [
    `Main thread busy ${(total / requests).toFixed(1)} µs per request (sampled; idle excluded).`,
    '',
    '| origin (self time) | share | µs / request |', '| --- | ---: | ---: |', ...rows(origins), '',
    '| origin (inclusive: on the stack) | share | µs / request |', '| --- | ---: | ---: |', ...rows(inclusive), '',
    '| frame (self time) | share | µs / request |', '| --- | ---: | ---: |', ...rows(frames),
  ];
}

const server = await spawnServer<{ port: number; token: string; tenantId: string }>(target === 'empty' ? './empty-server.ts' : './boka-server.ts', { BENCH_PROFILE: out });
try {
  const path = { tenant: `/api/tenants/${server.info.tenantId}`, health: '/api/health', empty: '/empty' }[target as 'tenant' | 'health' | 'empty'];
  const url = `http://127.0.0.1:${server.info.port}${path}`;
  const headers = target === 'tenant' ? { authorization: `Bearer ${server.info.token}` } : {};
  await autocannon({ url, connections: 100, duration: 3, headers }); // warm-up: JIT and caches
  server.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
  const result = await autocannon({ url, connections: 100, duration: Number(values.duration), headers });
  server.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 1500));
  const profile = JSON.parse(readFileSync(out, 'utf8')) as CpuProfile;
  console.log([
    `### Profile: GET ${target === 'tenant' ? '/api/tenants/:id (authenticated)' : path}, ${result.requests.total} requests in ${values.duration} s, ${result.non2xx + result.errors} errors`,
    '',
    ...summarise(profile, Number(values.top), result.requests.total),
    '',
    `Raw profile: ${out}`,
  ].join('\n'));
} finally {
  await stopServer(server.child);
}
