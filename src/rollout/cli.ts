import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { one, parseFlags, parseListen, type Flags } from './cli-args.js';
import type { RolloutController, RolloutStatus } from './controller.service.js';
import type { Command } from './decision.types.js';
import { renderStatus } from './live-view.js';
import { DEFAULT_PLAN, formatPlanErrors, loadPlan } from './plan.core.js';
import type { Plan } from './plan.schema.js';
import { formatSmokeResult, runSmokeSuite } from './smoke.js';
import { resolveRolloutSecrets, type RolloutSecrets } from './secrets.js';
import { LeaseHeldError } from './state/lease.js';
import { attachRollout, startRollout, type AttachOptions } from './start-rollout.js';

const USAGE = `usage:
  boka rollout start --router <admin url> [--admin-token-file f] [--blue <url...> --green <url...>] [common]
  boka rollout start --driver nginx --nginx-include f --nginx-status host:port --blue <url...> --green <url...>
                     [--nginx-upstream boka] [--nginx-bin nginx] [--nginx-arg a ...] [common]
  boka rollout start --blue <url...> --green <url...> [--listen 127.0.0.1:8080] [--admin-listen 127.0.0.1:8081]
                     [--admin-token T] [--exit-on-finish] [common]      (embedded router, one host / demo)
        common: [--plan rollout.yaml] [--report-dir rollouts] [--green-version V] [--no-resume] [--no-view]
                [--control-listen 127.0.0.1:8082]   (control API + dashboard; default a free loopback port)
  boka rollout status|pause|resume|promote|abort|rollback --controller <url> [--token T | --token-file F] [--by NAME] [--force]
  boka rollout plan [--plan rollout.yaml]     validate a plan and print it normalized
  boka smoke <url> [--plan rollout.yaml]`;

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

function readTokenFile(path: string): string | null {
  try {
    const token = readFileSync(path, 'utf8').trim();
    return token || null;
  } catch (error) {
    process.stderr.write(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
}

/** Prints the decisions worth a line (not every healthy evaluation) when there is no live view. */
function createDecisionPrinter(view: boolean): (status: RolloutStatus) => void {
  let lastPrinted = 0;
  return (status) => {
    if (view) return;
    const d = status.lastDecision;
    if (d && d.at !== lastPrinted && !['healthy', 'insufficient_data', 'hold'].includes(d.kind)) {
      lastPrinted = d.at;
      process.stdout.write(`${new Date(d.at).toISOString()} [${status.phase} ${status.weight}%] ${d.kind}: ${d.message}\n`);
    }
  };
}

async function runStart(flags: Flags): Promise<number> {
  const plan = readPlan(one(flags, 'plan'));
  if (!plan) return 2;
  let secrets: RolloutSecrets;
  try {
    secrets = resolveRolloutSecrets(plan, process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const controlListen = parseListen(one(flags, 'control-listen') ?? '127.0.0.1:0');
  if (!controlListen) {
    process.stderr.write('--control-listen must look like 127.0.0.1:8082\n');
    return 2;
  }
  const common = {
    plan,
    controlHost: controlListen.host,
    controlPort: controlListen.port,
    reportRoot: one(flags, 'report-dir'),
    greenVersion: one(flags, 'green-version'),
    secrets,
    resume: !flags['no-resume'],
    // preflight.migrate (ADR 0011): the release's database and migrations source, only when named
    // for the controller explicitly (a DATABASE_URL in the operator's shell may be another one).
    database: process.env.BOKA_ROLLOUT_DATABASE_URL ? { url: process.env.BOKA_ROLLOUT_DATABASE_URL, migrationsDir: process.env.BOKA_MIGRATIONS_DIR || undefined } : undefined,
  };
  if (one(flags, 'router') !== undefined || one(flags, 'driver') !== undefined) return runAttached(flags, common);
  return runEmbedded(flags, common);
}

type Common = Pick<AttachOptions, 'plan' | 'reportRoot' | 'greenVersion' | 'secrets' | 'resume' | 'database' | 'controlHost' | 'controlPort'>;

/**
 * The controller as a client of a front door it does not own. SIGTERM (or a second Ctrl-C)
 * detaches: stop evaluating, persist, release the lease, exit; the router keeps serving and a
 * restarted controller resumes. The first Ctrl-C aborts the rollout (traffic back to blue).
 */
async function runAttached(flags: Flags, common: Common): Promise<number> {
  let driver: AttachOptions['driver'];
  const routerUrl = one(flags, 'router');
  if (routerUrl) {
    const tokenFile = one(flags, 'admin-token-file');
    const adminToken = tokenFile ? readTokenFile(tokenFile) : (process.env.BOKA_ROLLOUT_TOKEN ?? null);
    if (tokenFile && !adminToken) return 2;
    driver = { kind: 'router', adminUrl: routerUrl, ...(adminToken ? { adminToken } : {}) };
  } else if (one(flags, 'driver') === 'nginx') {
    const includePath = one(flags, 'nginx-include');
    const statusListen = one(flags, 'nginx-status');
    if (!includePath || !statusListen) {
      process.stderr.write(`--driver nginx needs --nginx-include and --nginx-status\n${USAGE}\n`);
      return 2;
    }
    driver = { kind: 'nginx', nginx: { includePath, statusListen, upstreamName: one(flags, 'nginx-upstream') ?? 'boka', nginxBin: one(flags, 'nginx-bin'), nginxArgs: flags['nginx-arg'] ?? [] } };
  } else {
    process.stderr.write(`unknown --driver ${one(flags, 'driver') ?? ''} (only nginx; or --router <admin url> for boka router serve)\n`);
    return 2;
  }
  const view = !flags['no-view'] && Boolean(process.stdout.isTTY);
  let rollout: Awaited<ReturnType<typeof attachRollout>>;
  try {
    rollout = await attachRollout({ ...common, driver, blue: flags.blue, green: flags.green, onChange: createDecisionPrinter(view) });
  } catch (error) {
    process.stderr.write(`${error instanceof LeaseHeldError ? 'refused: ' : ''}${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof LeaseHeldError ? 3 : 1;
  }
  process.stdout.write(`${rollout.resumed ? 'resuming' : 'starting'} rollout ${rollout.rolloutId} on ${rollout.target} · events in ${rollout.outputDir}/events.jsonl\n`);
  process.stdout.write(`dashboard ${rollout.controlUrl}/ui · boka rollout status|pause|… --controller ${rollout.controlUrl}\n`);
  const signals = watchSignals(rollout.controller, 'the router keeps serving; a restarted controller resumes');
  await rollout.controller.start();
  const result = await Promise.race([rollout.controller.done, signals.detached]);
  signals.dispose();
  await rollout.close();
  if (result === 'detached') {
    const s = rollout.controller.readStatus();
    process.stdout.write(`detached at ${s.phase} ${s.weight}% (step ${s.step + 1}/${s.steps}); state in ${rollout.outputDir}/state.json\n`);
    return 0;
  }
  process.stdout.write(`\noutcome: ${result.outcome}\nreport: ${result.reportPath}\n`);
  return result.outcome === 'promoted' ? 0 : 1;
}

/** SIGTERM detaches at once; Ctrl-C aborts the rollout first and detaches the second time. */
function watchSignals(controller: RolloutController, detachNote: string): { detached: Promise<'detached'>; dispose(): void } {
  let interrupts = 0;
  let resolveDetached!: (v: 'detached') => void;
  const detached = new Promise<'detached'>((resolve) => (resolveDetached = resolve));
  const detach = () => {
    process.stderr.write(`\ndetaching: evaluation stops, traffic is left as it is (${detachNote})\n`);
    void controller.detach().then(() => resolveDetached('detached'));
  };
  const onInt = () => {
    interrupts++;
    if (interrupts === 1 && !controller.readStatus().outcome) {
      process.stderr.write('\naborting: moving all traffic to blue (Ctrl-C again to detach and leave the router as it is)\n');
      void controller.sendCommand('abort', 'signal');
      return;
    }
    detach();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', detach);
  return {
    detached,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', detach);
    },
  };
}

/** The embedded router (one host, the demo): the router lives and dies with this process. */
async function runEmbedded(flags: Flags, common: Common): Promise<number> {
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
  let rollout: Awaited<ReturnType<typeof startRollout>>;
  try {
    rollout = await startRollout({
      ...common,
      blue,
      green,
      listenHost: listen.host,
      listenPort: listen.port,
      adminHost: adminListen.host,
      adminPort: adminListen.port,
      adminToken,
      stickySecret,
      onChange: createDecisionPrinter(view),
    });
  } catch (error) {
    process.stderr.write(`${error instanceof LeaseHeldError ? 'refused: ' : ''}${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof LeaseHeldError ? 3 : 1;
  }
  process.stdout.write(`router on ${rollout.routerUrl} · admin API on ${rollout.adminUrl} · ${rollout.resumed ? 'resuming' : 'starting'} rollout ${rollout.rolloutId} · events in ${rollout.outputDir}/events.jsonl\n`);
  process.stdout.write(`dashboard ${rollout.controlUrl}/ui · boka rollout status|pause|… --controller ${rollout.controlUrl}\n`);
  const draw = () => process.stdout.write(`\x1b[H\x1b[2J${renderStatus(rollout.controller.readStatus(), Date.now(), true)}\n\n  Ctrl-C: abort (traffic back to blue) · boka rollout pause|resume|promote|rollback\n`);
  const redraw = view ? setInterval(draw, 1_000) : null;

  const signals = watchSignals(rollout.controller, 'this embedded router stops with the process; restarting the same command resumes');
  await rollout.controller.start();
  const result = await Promise.race([rollout.controller.done, signals.detached]);
  if (redraw) {
    clearInterval(redraw);
    draw();
  }
  signals.dispose();
  if (result === 'detached') {
    await rollout.close();
    return 0;
  }
  process.stdout.write(`\noutcome: ${result.outcome}\nreport: ${result.reportPath}\n`);
  if (!flags['exit-on-finish']) {
    // The router is the front door: it keeps serving the final weight until told to stop.
    process.stdout.write(`router still serving on ${rollout.routerUrl} (green ${rollout.router.readState().greenWeight}%); Ctrl-C or SIGTERM to stop\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
  await rollout.close();
  return result.outcome === 'promoted' ? 0 : 1;
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
