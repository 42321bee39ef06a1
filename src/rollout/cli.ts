import { readFileSync } from 'node:fs';
import { request } from 'undici';
import type { RolloutStatus } from './controller.service.js';
import type { Command } from './decision.types.js';
import { renderStatus } from './live-view.js';
import { DEFAULT_PLAN, formatPlanErrors, loadPlan } from './plan.core.js';
import type { Plan } from './plan.schema.js';
import { formatSmokeResult, runSmokeSuite } from './smoke.js';
import { startRollout } from './start-rollout.js';

const USAGE = `usage:
  boka rollout start --blue <url...> --green <url...> [--listen 127.0.0.1:8080] [--admin-listen 127.0.0.1:8081]
                     [--plan rollout.yaml] [--report-dir rollouts] [--admin-token T] [--no-view] [--exit-on-finish]
  boka rollout status|pause|resume|promote|abort|rollback [--router http://127.0.0.1:8081] [--token T] [--by NAME]
  boka rollout plan [--plan rollout.yaml]     validate a plan and print it normalized
  boka smoke <url> [--plan rollout.yaml]`;

type Flags = Record<string, string[]>;

/** `--blue a b --green c --no-view` → { blue: [a, b], green: [c], 'no-view': [] }, plus positionals. */
function parseFlags(argv: readonly string[]): { flags: Flags; positional: string[] } {
  const flags: Flags = {};
  const positional: string[] = [];
  let current: string[] | null = null;
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      current = flags[name] ?? (flags[name] = []);
      if (inline !== undefined) {
        current.push(inline);
        current = null;
      }
    } else if (current) current.push(arg);
    else positional.push(arg);
  }
  return { flags, positional };
}

function one(flags: Flags, name: string): string | undefined {
  return flags[name]?.[0];
}

function readPlan(path: string | undefined): Plan | null {
  if (!path) return DEFAULT_PLAN;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    process.stderr.write(`cannot read plan ${path}: ${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
  const result = loadPlan(text);
  if (!result.ok) {
    process.stderr.write(`invalid plan:\n${formatPlanErrors(result.errors, path)}\n`);
    return null;
  }
  return result.plan;
}

function parseListen(text: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  if (!match?.[1] || !match[2]) return null;
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** Entry point for `boka rollout …`; returns the process exit code. */
export async function runRolloutCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { flags } = parseFlags(rest);
  switch (sub) {
    case 'start':
      return runStart(flags);
    case 'plan': {
      const plan = readPlan(one(flags, 'plan'));
      if (!plan) return 2;
      process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      return 0;
    }
    case 'status':
    case 'pause':
    case 'resume':
    case 'promote':
    case 'abort':
    case 'rollback':
      return runRemote(sub, flags);
    default:
      process.stderr.write(`${USAGE}\n`);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}

async function runRemote(sub: 'status' | Command, flags: Flags): Promise<number> {
  // The router's admin listener, not its traffic port.
  const base = one(flags, 'router') ?? 'http://127.0.0.1:8081';
  const token = one(flags, 'token') ?? process.env.BOKA_ROLLOUT_TOKEN;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    if (sub === 'status') {
      const res = await request(`${base}/_router/admin/rollout`, { headers });
      const body = (await res.body.json()) as RolloutStatus & { message?: string };
      if (res.statusCode !== 200) {
        process.stderr.write(`${res.statusCode}: ${body.message ?? 'error'}\n`);
        return 1;
      }
      process.stdout.write(`${renderStatus(body, Date.now(), Boolean(process.stdout.isTTY))}\n`);
      return 0;
    }
    const res = await request(`${base}/_router/admin/rollout/${sub}`, { method: 'POST', headers, body: JSON.stringify({ by: one(flags, 'by') ?? process.env.USER ?? 'operator' }) });
    const body = (await res.body.json()) as { accepted?: boolean; message?: string };
    process.stdout.write(`${body.message ?? res.statusCode}\n`);
    return res.statusCode === 200 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`cannot reach the rollout at ${base}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function runStart(flags: Flags): Promise<number> {
  const blue = flags.blue ?? [];
  const green = flags.green ?? [];
  if (blue.length === 0 || green.length === 0) {
    process.stderr.write(`--blue and --green each need at least one URL\n${USAGE}\n`);
    return 2;
  }
  const listen = parseListen(one(flags, 'listen') ?? '127.0.0.1:8080');
  if (!listen) {
    process.stderr.write('--listen must look like 127.0.0.1:8080\n');
    return 2;
  }
  const adminListen = parseListen(one(flags, 'admin-listen') ?? '127.0.0.1:8081');
  if (!adminListen) {
    process.stderr.write('--admin-listen must look like 127.0.0.1:8081\n');
    return 2;
  }
  const plan = readPlan(one(flags, 'plan'));
  if (!plan) return 2;
  const adminToken = one(flags, 'admin-token') ?? process.env.BOKA_ROLLOUT_TOKEN;
  if (!['127.0.0.1', '::1', 'localhost'].includes(adminListen.host) && !adminToken) {
    process.stderr.write(`warning: admin API on ${adminListen.host} without --admin-token: it only answers loopback callers\n`);
  }
  const stickySecret = process.env.BOKA_ROUTER_STICKY_SECRET ? Buffer.from(process.env.BOKA_ROUTER_STICKY_SECRET, 'base64url') : undefined;
  if (stickySecret && stickySecret.length < 32) {
    process.stderr.write('BOKA_ROUTER_STICKY_SECRET must be at least 32 bytes, base64url\n');
    return 2;
  }
  const view = !flags['no-view'] && Boolean(process.stdout.isTTY);
  let lastPrinted = 0;
  const rollout = await startRollout({
    plan,
    blue,
    green,
    listenHost: listen.host,
    listenPort: listen.port,
    adminHost: adminListen.host,
    adminPort: adminListen.port,
    adminToken,
    stickySecret,
    reportRoot: one(flags, 'report-dir'),
    // preflight.migrate (ADR 0011): the release's database and migrations source, when given.
    database: process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, migrationsDir: process.env.BOKA_MIGRATIONS_DIR || undefined } : undefined,
    onChange(status) {
      if (view) return;
      const d = status.lastDecision;
      if (d && d.at !== lastPrinted && !['healthy', 'insufficient_data', 'hold'].includes(d.kind)) {
        lastPrinted = d.at;
        process.stdout.write(`${new Date(d.at).toISOString()} [${status.phase} ${status.weight}%] ${d.kind}: ${d.message}\n`);
      }
    },
  });
  process.stdout.write(`router on ${rollout.routerUrl} · admin API on ${rollout.adminUrl} · rollout ${rollout.rolloutId} · events in ${rollout.outputDir}/events.jsonl\n`);
  const draw = () => process.stdout.write(`\x1b[H\x1b[2J${renderStatus(rollout.controller.readStatus(), Date.now(), true)}\n\n  Ctrl-C: abort (traffic back to blue) · boka rollout pause|resume|promote|rollback\n`);
  const redraw = view ? setInterval(draw, 1_000) : null;

  let interrupts = 0;
  let onSignal: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    onSignal = () => {
      interrupts++;
      const status = rollout.controller.readStatus();
      if (interrupts === 1 && !status.outcome) {
        process.stderr.write('\naborting: moving all traffic to blue (Ctrl-C again to leave the router as it is)\n');
        void rollout.controller.sendCommand('abort', 'signal');
        return;
      }
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  await rollout.controller.start();
  const result = await Promise.race([rollout.controller.done, finished.then(() => null)]);
  if (redraw) {
    clearInterval(redraw);
    draw();
  }
  const final = result ?? (await rollout.controller.stop());
  process.stdout.write(`\noutcome: ${final.outcome}\nreport: ${final.reportPath}\n`);
  if (result && !flags['exit-on-finish']) {
    // The router is the front door: it keeps serving the final weight until told to stop.
    process.stdout.write(`router still serving on ${rollout.routerUrl} (green ${rollout.router.readState().greenWeight}%); Ctrl-C to stop\n`);
    await finished;
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await rollout.close();
  return final.outcome === 'promoted' ? 0 : 1;
}

/** Entry point for `boka smoke <url>`: one line per check, exit 0 when all pass. */
export async function runSmokeCli(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv);
  const url = positional[0];
  if (!url) {
    process.stderr.write('usage: boka smoke <url> [--plan rollout.yaml]\n');
    return 2;
  }
  const plan = readPlan(one(flags, 'plan'));
  if (!plan) return 2;
  const result = await runSmokeSuite(url, { extraChecks: plan.preflight.checks, timeoutMs: plan.preflight.timeoutMs });
  process.stdout.write(`${formatSmokeResult(result)}\n`);
  return result.ok ? 0 : 1;
}
