/**
 * Rollout router overhead (the goal: at least 0.7 of direct req/s): autocannon req/s straight to a
 * backend vs through the built-in router (its own process, 50 % green, both colors on that same
 * backend), in the same run, 127.0.0.1 only. Two backends: an empty Fastify route (the router's
 * worst case: all cost is the proxy; a bare node:http + undici proxy is measured too, as the
 * ceiling for any Node proxy) and Boka's authenticated GET /api/tenants/:id.
 * Each phase lasts BENCH_DURATION seconds (default 10).
 */
import autocannon from 'autocannon';
import { spawnServer, stopServer } from './servers/spawn.js';

const DURATION_S = Math.min(Number(process.env.BENCH_DURATION ?? 10), 10);
const CONNECTIONS = 50;

interface Phase {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string> = {}): Promise<Phase> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

interface Comparison {
  direct: Phase;
  routed: Phase;
  bare?: Phase;
}

/** Direct, then through the router (and optionally the bare reference proxy), one after the other. */
async function compare(backendUrl: string, path: string, headers: Record<string, string>, withBare: boolean): Promise<Comparison> {
  // spawnServer passes its environment on; the proxies read their backend from it.
  process.env.ROUTER_BENCH_BACKEND = backendUrl;
  await fetch(`${backendUrl}${path}`, { headers }).then((r) => r.arrayBuffer());
  const direct = await load(`${backendUrl}${path}`, headers);
  const router = await spawnServer<{ port: number }>('./router-server.ts');
  let routed: Phase;
  try {
    routed = await load(`http://127.0.0.1:${router.info.port}${path}`, headers);
  } finally {
    await stopServer(router.child);
  }
  if (!withBare) return { direct, routed };
  const bare = await spawnServer<{ port: number }>('./bare-proxy-server.ts');
  try {
    return { direct, routed, bare: await load(`http://127.0.0.1:${bare.info.port}${path}`, headers) };
  } finally {
    await stopServer(bare.child);
  }
}

const row = (name: string, p: Phase) => `| ${name} | ${p.rps.toFixed(0)} | ${p.p50} | ${p.p99} | ${p.errors} |`;

export async function run(): Promise<string> {
  const empty = await spawnServer<{ port: number }>('./empty-server.ts');
  let emptyResult: Comparison;
  try {
    emptyResult = await compare(`http://127.0.0.1:${empty.info.port}`, '/empty', {}, true);
  } finally {
    await stopServer(empty.child);
  }
  const boka = await spawnServer<{ port: number; token: string; tenantId: string }>('./boka-server.ts');
  let bokaResult: Comparison;
  try {
    bokaResult = await compare(`http://127.0.0.1:${boka.info.port}`, `/api/tenants/${boka.info.tenantId}`, { authorization: `Bearer ${boka.info.token}` }, false);
  } finally {
    await stopServer(boka.child);
  }
  const ratio = (r: Comparison, p: Phase = r.routed) => (p.rps / r.direct.rps).toFixed(2);
  return [
    `### Rollout router overhead (${CONNECTIONS} connections, ${DURATION_S} s per phase, router in its own process at 50 % green)`,
    '',
    '| target | req/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('empty Fastify route, direct', emptyResult.direct),
    row('empty Fastify route, through the router', emptyResult.routed),
    ...(emptyResult.bare ? [row('empty Fastify route, through a bare node:http + undici proxy (reference)', emptyResult.bare)] : []),
    row('Boka GET /api/tenants/:id (signed in), direct', bokaResult.direct),
    row('Boka GET /api/tenants/:id (signed in), through the router', bokaResult.routed),
    '',
    `Router / direct: **${ratio(emptyResult)}** on the empty route (pure proxy cost; the bare reference proxy gets ${emptyResult.bare ? ratio(emptyResult, emptyResult.bare) : '–'}), **${ratio(bokaResult)}** on Boka (goal ≥ 0.7).`,
    'On a 2-core machine the router, the backend and autocannon share the cores, so the router phase also takes CPU from the backend.',
  ].join('\n');
}
