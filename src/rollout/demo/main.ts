/**
 * `npm run demo:rollout [-- --fault errors|latency] [--plan examples/rollout-demo.yaml]`
 *
 * Starts blue and green Boka instances from this checkout on ONE database (a scratch database on
 * the PostgreSQL server when DATABASE_URL is set, else an embedded PGlite served over the wire
 * protocol), drives signed-in traffic through the built-in router and runs the demo plan (about a
 * minute) to 100 %. With `--fault errors` a proxy in front of green fails 5 % of API requests
 * once green takes traffic (`--fault latency`: adds 700 ms), and the rollout rolls back on its
 * own. Everything on 127.0.0.1; every child process is killed on exit, failure or Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './boka-instances.js';
import { startRolloutEnvironment, type RolloutEnvironment } from './environment.js';
import { startTraffic, type Traffic } from './traffic.js';
import type { RolloutStatus } from '../controller.service.js';
import { formatPlanErrors, loadPlan } from '../plan.core.js';

const DEADLINE_MS = 5 * 60_000;
const ROUTINE = new Set(['healthy', 'hold', 'insufficient_data']);

function parseArgs(argv: readonly string[]): { fault: 'errors' | 'latency' | null; planPath: string } {
  let fault: 'errors' | 'latency' | null = null;
  let planPath = 'examples/rollout-demo.yaml';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg?.includes('=') ? arg.split('=')[1] : argv[i + 1];
    if (arg?.startsWith('--fault')) {
      if (value !== 'errors' && value !== 'latency') throw new Error(`--fault expects errors or latency, got ${String(value)}`);
      fault = value;
      if (!arg.includes('=')) i++;
    } else if (arg?.startsWith('--plan')) {
      planPath = value ?? planPath;
      if (!arg.includes('=')) i++;
    } else throw new Error(`unknown argument ${String(arg)}\nusage: npm run demo:rollout [-- --fault errors|latency] [--plan file.yaml]`);
  }
  return { fault, planPath };
}

const t0 = Date.now();
/** Set on Ctrl-C: the cleanup is under way and the main flow's errors are expected. */
let interrupted = false;
const say = (line: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
const pct = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);

async function main(): Promise<number> {
  const { fault, planPath } = parseArgs(process.argv.slice(2));
  const loaded = loadPlan(readFileSync(planPath, 'utf8'));
  if (!loaded.ok) {
    process.stderr.write(`${formatPlanErrors(loaded.errors, planPath)}\n`);
    return 2;
  }
  const plan = loaded.plan;
  let env: RolloutEnvironment | null = null;
  let traffic: Traffic | null = null;
  let ticker: NodeJS.Timeout | undefined;
  const cleanup = async () => {
    clearInterval(ticker);
    await traffic?.stop().catch(() => undefined);
    await env?.close();
  };
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupted: stopping traffic and every child process…');
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deadline = setTimeout(() => {
    say(`demo did not finish within ${DEADLINE_MS / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);
  deadline.unref();

  try {
    say(`plan ${planPath}: ${plan.steps.map((s) => `${s.weight}%`).join(' → ')}, interval ${plan.intervalMs} ms, window ${plan.windowMs} ms`);
    env = await startRolloutEnvironment({ log: say });
    const environment = env;
    let lastKey = '';
    let armedAt: number | null = null;
    const onChange = (status: RolloutStatus) => {
      const d = status.lastDecision;
      if (fault && armedAt === null && status.weight > 0) {
        armedAt = Date.now();
        environment.greenProxy.arm(fault === 'errors' ? { errorRate: 0.05 } : { delayMs: 700 });
        say(`FAULT: green now ${fault === 'errors' ? 'fails 5 % of API requests with 500' : 'answers 700 ms late'} (fault proxy, not production code)`);
      }
      if (!d) return;
      const key = `${d.at}:${d.kind}`;
      if (key === lastKey || ROUTINE.has(d.kind)) return;
      lastKey = key;
      say(`${d.kind.padEnd(18)} step ${status.step + 1}/${status.steps} green ${status.weight}% · ${d.message}`);
    };
    const rollout = await environment.startRollout(plan, { onChange });
    say(`router on ${rollout.routerUrl} · report dir ${relative(REPO_ROOT, rollout.outputDir) || rollout.outputDir}`);
    traffic = startTraffic({ url: rollout.routerUrl, users: 24, rps: 120 });
    await traffic.ready;
    say(`traffic: 24 signed-in users, ~120 req/s through the router`);
    ticker = setInterval(() => {
      const s = rollout.controller.readStatus();
      const g = s.lastReading?.green;
      const b = s.lastReading?.blue;
      const t = traffic?.stats;
      say(`  ${s.phase.padEnd(11)} green ${String(s.weight).padStart(3)}% | green ${g?.requests ?? 0} req, err ${pct(g?.metrics.error_rate?.value)}, p95 ${g?.metrics.p95_latency_ms?.value.toFixed(0) ?? '–'} ms | blue ${b?.requests ?? 0} req, err ${pct(b?.metrics.error_rate?.value)} | client: ${t?.total ?? 0} sent, ${t?.failed ?? 0} failed (${t?.injected ?? 0} injected)`);
    }, 5_000);
    await rollout.controller.start();
    const result = await rollout.controller.done;
    clearInterval(ticker);
    const stats = traffic.stats;
    await traffic.stop();
    traffic = null;
    const r = result.report;
    say(`outcome: ${r.outcome.toUpperCase()}`);
    if (r.timeToDetectMs !== null) say(`time to detect: ${r.timeToDetectMs} ms (first bad sample → decision)`);
    if (r.timeToRollbackMs !== null) say(`time to rollback: ${r.timeToRollbackMs} ms (decision → blue 100 % read back)`);
    if (r.incident) say(`incident: ${r.incident.reason}`);
    if (armedAt !== null && r.incident) {
      say(`fault start → rollback decision: ${r.incident.decidedAt - armedAt} ms (includes collecting ${plan.minSamples} green samples at ${r.steps.at(-1)?.weight ?? '?'} %)`);
    }
    say(`client: ${stats.total} requests, ${stats.failed} failed (${stats.injected} injected by the fault proxy, ${stats.unexpected} other); by color ${JSON.stringify(stats.byColor)}`);
    for (const f of stats.failures.filter((x) => !x.injected).slice(-5)) say(`  failure: ${f.method} ${f.path} → ${f.status} (${f.color ?? 'no color'}) ${f.detail}`);
    say(`report: ${relative(REPO_ROOT, result.reportPath)} (+ report.json, events.jsonl)`);
    const expected = fault ? 'rolled_back' : 'promoted';
    return r.outcome === expected ? 0 : 1;
  } finally {
    clearTimeout(deadline);
    if (!interrupted) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await cleanup();
    }
  }
}

main().then(
  (code) => {
    if (!interrupted) process.exit(code);
  },
  (error: unknown) => {
    if (interrupted) return; // the signal handler exits once everything is stopped
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
