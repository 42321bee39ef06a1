import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { parseListen } from './cli-args.js';
import type { RolloutController, RolloutStatus } from './controller.service.js';
import type { Command } from './decision.types.js';
import { renderStatus } from './live-view.js';
import { DEFAULT_PLAN, formatPlanErrors, loadPlan } from './plan.core.js';
import type { Plan } from './plan.schema.js';
import { formatSmokeResult, runSmokeSuite } from './smoke.js';
import { resolveRolloutSecrets, type RolloutSecrets } from './secrets.js';
import { LeaseHeldError } from './state/lease.js';
import { attachRollout, startRollout, type AttachOptions } from './start-rollout.js';

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

/** Values of `boka rollout start` (the option table is src/cli/commands.ts). */
export interface StartValues {
  plan: string | undefined;
  router: string | undefined;
  'admin-token-file': string | undefined;
  driver: string | undefined;
  'nginx-include': string | undefined;
  'nginx-status': string | undefined;
  'nginx-upstream': string;
  'nginx-bin': string | undefined;
  'nginx-arg': string[];
  blue: string[];
  green: string[];
  listen: string;
  'admin-listen': string;
  'admin-token': string | undefined;
  'exit-on-finish': boolean;
  'report-dir': string | undefined;
  'green-version': string | undefined;
  'no-resume': boolean;
  'no-view': boolean;
  'control-listen': string;
}

/** Values of `boka rollout status|pause|…`. */
export interface RemoteValues {
  controller: string | undefined;
  token: string | undefined;
  'token-file': string | undefined;
  by: string | undefined;
  force: boolean;
  json: boolean;
}

/** `boka rollout plan`: validate and print the normalized plan (JSON); exit 2 when invalid. */
export async function runPlan(values: { plan: string | undefined }): Promise<number> {
  const plan = readPlan(values.plan);
  if (!plan) return 2;
  process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  return 0;
}

/** The operator token for the control API: `--token`, else `--token-file`, else BOKA_ROLLOUT_TOKEN. */
function readToken(values: RemoteValues): { token: string | undefined } | null {
  const inline = values.token;
  if (inline !== undefined) return { token: inline };
  const file = values['token-file'];
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
export async function runRemote(sub: 'status' | Command, values: RemoteValues): Promise<number> {
  const base = (values.controller ?? process.env.BOKA_ROLLOUT_CONTROLLER)?.replace(/\/+$/, '');
  if (!base) {
    process.stderr.write(`boka rollout ${sub}: --controller <url> is needed (the control API URL that \`boka rollout start\` prints), or BOKA_ROLLOUT_CONTROLLER\nsee 'boka rollout ${sub} --help'\n`);
    return 2;
  }
  const credential = readToken(values);
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
      process.stdout.write(values.json ? `${JSON.stringify(body)}\n` : `${renderStatus(body, Date.now(), Boolean(process.stdout.isTTY))}\n`);
      return 0;
    }
    const command = { by: values.by ?? process.env.USER ?? 'operator', ...(values.force ? { force: true } : {}) };
    const res = await request(`${base}/_rollout/commands/${sub}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(command) });
    const body = (await res.body.json()) as { message?: string };
    const message = body.message ?? String(res.statusCode);
    if (res.statusCode === 200) process.stdout.write(values.json ? `${JSON.stringify({ command: sub, accepted: true, message })}\n` : `${message}\n`);
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

/** `boka rollout start`: exit 0 promoted (or detached), 1 not promoted, 2 bad plan/secrets, 3 lease held. */
export async function runStart(values: StartValues): Promise<number> {
  const plan = readPlan(values.plan);
  if (!plan) return 2;
  let secrets: RolloutSecrets;
  try {
    secrets = resolveRolloutSecrets(plan, process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const controlListen = parseListen(values['control-listen']);
  if (!controlListen) return 2;
  const common = {
    plan,
    controlHost: controlListen.host,
    controlPort: controlListen.port,
    reportRoot: values['report-dir'],
    greenVersion: values['green-version'],
    secrets,
    resume: !values['no-resume'],
    // preflight.migrate (ADR 0011): the release's database and migrations source, only when named
    // for the controller explicitly (a DATABASE_URL in the operator's shell may be another one).
    database: process.env.BOKA_ROLLOUT_DATABASE_URL ? { url: process.env.BOKA_ROLLOUT_DATABASE_URL, migrationsDir: process.env.BOKA_MIGRATIONS_DIR || undefined } : undefined,
  };
  if (values.router !== undefined || values.driver !== undefined) return runAttached(values, common);
  return runEmbedded(values, common);
}

type Common = Pick<AttachOptions, 'plan' | 'reportRoot' | 'greenVersion' | 'secrets' | 'resume' | 'database' | 'controlHost' | 'controlPort'>;

/**
 * The controller as a client of a front door it does not own. SIGTERM (or a second Ctrl-C)
 * detaches: stop evaluating, persist, release the lease, exit; the router keeps serving and a
 * restarted controller resumes. The first Ctrl-C aborts the rollout (traffic back to blue).
 */
async function runAttached(values: StartValues, common: Common): Promise<number> {
  let driver: AttachOptions['driver'];
  const routerUrl = values.router;
  if (routerUrl) {
    const tokenFile = values['admin-token-file'];
    const adminToken = tokenFile ? readTokenFile(tokenFile) : (process.env.BOKA_ROLLOUT_TOKEN ?? null);
    if (tokenFile && !adminToken) return 2;
    driver = { kind: 'router', adminUrl: routerUrl, ...(adminToken ? { adminToken } : {}) };
  } else if (values.driver === 'nginx') {
    const includePath = values['nginx-include'];
    const statusListen = values['nginx-status'];
    if (!includePath || !statusListen) {
      process.stderr.write("boka rollout start: --driver nginx needs --nginx-include and --nginx-status\nsee 'boka rollout start --help'\n");
      return 2;
    }
    driver = { kind: 'nginx', nginx: { includePath, statusListen, upstreamName: values['nginx-upstream'], nginxBin: values['nginx-bin'], nginxArgs: values['nginx-arg'] } };
  } else {
    process.stderr.write("boka rollout start: --router needs an admin URL (or use --driver nginx)\nsee 'boka rollout start --help'\n");
    return 2;
  }
  const view = !values['no-view'] && Boolean(process.stdout.isTTY);
  let rollout: Awaited<ReturnType<typeof attachRollout>>;
  try {
    rollout = await attachRollout({ ...common, driver, blue: values.blue.length > 0 ? values.blue : undefined, green: values.green.length > 0 ? values.green : undefined, onChange: createDecisionPrinter(view) });
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
async function runEmbedded(values: StartValues, common: Common): Promise<number> {
  const { blue, green } = values;
  if (blue.length === 0 || green.length === 0) {
    process.stderr.write("boka rollout start: --blue and --green each need at least one URL (or --router / --driver nginx)\nsee 'boka rollout start --help'\n");
    return 2;
  }
  // Checked by the option table already; parsed again here for the typed host and port.
  const listen = parseListen(values.listen);
  const adminListen = parseListen(values['admin-listen']);
  if (!listen || !adminListen) return 2;
  const adminToken = values['admin-token'] ?? process.env.BOKA_ROLLOUT_TOKEN;
  if (!['127.0.0.1', '::1', 'localhost'].includes(adminListen.host) && !adminToken) {
    process.stderr.write(`warning: admin API on ${adminListen.host} without --admin-token: it only answers loopback callers\n`);
  }
  const stickySecret = process.env.BOKA_ROUTER_STICKY_SECRET ? Buffer.from(process.env.BOKA_ROUTER_STICKY_SECRET, 'base64url') : undefined;
  if (stickySecret && stickySecret.length < 32) {
    process.stderr.write('BOKA_ROUTER_STICKY_SECRET must be at least 32 bytes, base64url\n');
    return 2;
  }
  const view = !values['no-view'] && Boolean(process.stdout.isTTY);
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
  if (!values['exit-on-finish']) {
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

/** `boka smoke <url>`: one line per check (or one JSON document), exit 0 when all pass. */
export async function runSmoke(values: { plan: string | undefined; json: boolean }, positionals: readonly string[]): Promise<number> {
  const [url] = positionals;
  if (!url) return 2;
  const plan = readPlan(values.plan);
  if (!plan) return 2;
  const result = await runSmokeSuite(url, { extraChecks: plan.preflight.checks, timeoutMs: plan.preflight.timeoutMs });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${formatSmokeResult(result)}\n`);
  return result.ok ? 0 : 1;
}
