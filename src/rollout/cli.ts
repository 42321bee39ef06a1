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
                     [--control-listen 127.0.0.1:8082] [--plan rollout.yaml] [--report-dir rollouts] [--admin-token T]
                     [--no-view] [--exit-on-finish]
  boka rollout status|pause|resume|promote|abort|rollback --controller <url> [--token T | --token-file F] [--by NAME] [--force]
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

/** The operator token for the control API: `--token`, else `--token-file`, else BOKA_ROLLOUT_TOKEN. */
function readToken(flags: Flags): { token: string | undefined } | null {
  const inline = one(flags, 'token');
  if (inline !== undefined) return { token: inline };
  const file = one(flags, 'token-file');
  if (file === undefined) return { token: process.env.BOKA_ROLLOUT_TOKEN || undefined };
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (!token) throw new Error('the file is empty');
    return { token };
  } catch (error) {
    process.stderr.write(`cannot read --token-file ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
}

/** `status` and the commands talk to the controller's control API (src/rollout/control/), the same one the dashboard uses. */
async function runRemote(sub: 'status' | Command, flags: Flags): Promise<number> {
  const base = (one(flags, 'controller') ?? process.env.BOKA_ROLLOUT_CONTROLLER)?.replace(/\/+$/, '');
  if (!base) {
    process.stderr.write(`--controller <url> is needed (the control API URL that \`boka rollout start\` prints), or BOKA_ROLLOUT_CONTROLLER\n${USAGE}\n`);
    return 2;
  }
  const credential = readToken(flags);
  if (!credential) return 2;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credential.token) headers.authorization = `Bearer ${credential.token}`;
  try {
    if (sub === 'status') {
      const res = await request(`${base}/_rollout/status`, { headers });
      const body = (await res.body.json()) as RolloutStatus & { message?: string };
      if (res.statusCode !== 200) {
        process.stderr.write(`${res.statusCode}: ${body.message ?? 'error'}\n`);
        return 1;
      }
      process.stdout.write(`${renderStatus(body, Date.now(), Boolean(process.stdout.isTTY))}\n`);
      return 0;
    }
    const command = { by: one(flags, 'by') ?? process.env.USER ?? 'operator', ...(flags.force ? { force: true } : {}) };
    const res = await request(`${base}/_rollout/commands/${sub}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(command) });
    const body = (await res.body.json()) as { message?: string };
    const message = body.message ?? String(res.statusCode);
    if (res.statusCode === 200) process.stdout.write(`${message}\n`);
    else process.stderr.write(`${sub} refused (${res.statusCode}): ${message}\n`);
    return res.statusCode === 200 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`cannot reach the controller at ${base}: ${error instanceof Error ? error.message : String(error)}\n`);
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
  const controlListen = parseListen(one(flags, 'control-listen') ?? '127.0.0.1:0');
  if (!controlListen) {
    process.stderr.write('--control-listen must look like 127.0.0.1:8082\n');
    return 2;
  }
  const plan = readPlan(one(flags, 'plan'));
  if (!plan) return 2;
  const adminToken = one(flags, 'admin-token') ?? process.env.BOKA_ROLLOUT_TOKEN;
  if (!['127.0.0.1', '::1', 'localhost'].includes(adminListen.host) && !adminToken) {
    process.stderr.write(`warning: admin API on ${adminListen.host} without --admin-token: it only answers loopback callers\n`);
  }
  if (!['127.0.0.1', '::1', 'localhost'].includes(controlListen.host) && !adminToken) {
    process.stderr.write(`warning: control API on ${controlListen.host} without --admin-token: it only answers loopback callers\n`);
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
    controlHost: controlListen.host,
    controlPort: controlListen.port,
    stickySecret,
    reportRoot: one(flags, 'report-dir'),
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
  process.stdout.write(`dashboard ${rollout.controlUrl}/ui · boka rollout status|pause|… --controller ${rollout.controlUrl}\n`);
  const draw = () => process.stdout.write(`\x1b[H\x1b[2J${renderStatus(rollout.controller.readStatus(), Date.now(), true)}\n\n  Ctrl-C: abort (traffic back to blue) · boka rollout pause|resume|promote|rollback --controller ${rollout.controlUrl} · ${rollout.controlUrl}/ui\n`);
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
