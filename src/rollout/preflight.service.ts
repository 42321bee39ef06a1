import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { formatDuration } from './duration.core.js';
import type { Plan } from './plan.schema.js';
import { runSmokeSuite, type SmokeResult } from './smoke.js';

export interface PreflightCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PreflightResult {
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
}

/** Credentials and expectations for the health probes (`HEALTH_TOKEN`, `--green-version`). */
export interface HealthProbeOptions {
  /** Sent as `Authorization: Bearer …` to the health paths; never logged. */
  readonly token?: string;
}

/** GET a health path; ok on 2xx. The body's first 200 characters go into the detail. */
export async function probeHealth(baseUrl: string, path: string, timeoutMs: number, probe: HealthProbeOptions = {}): Promise<PreflightCheck & { version?: string }> {
  const dispatcher = new Agent({ connections: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const name = `${baseUrl}${path}`;
  try {
    const headers: Record<string, string> = probe.token ? { authorization: `Bearer ${probe.token}` } : {};
    const res = await request(new URL(path, baseUrl), { dispatcher, headers });
    const text = (await res.body.text()).slice(0, 2_000);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const version = readVersion(text);
    return { name, ok, detail: `${res.statusCode}${ok ? '' : ` ${text.slice(0, 200)}`}`, ...(version === undefined ? {} : { version }) };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    await dispatcher.close();
  }
}

function readVersion(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { version?: unknown };
    return typeof body.version === 'string' ? body.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Deep health of every instance of a color; with `expectedVersion`, each must also report that
 * `version` (a mismatch fails with both versions named: green may be an old build).
 */
export async function probeColorHealth(urls: readonly string[], path: string, timeoutMs: number, probe: HealthProbeOptions & { expectedVersion?: string | null } = {}): Promise<{ ok: boolean; detail: string }> {
  const results = await Promise.all(urls.map((u) => probeHealth(u, path, timeoutMs, probe)));
  const checked = results.map((r) => {
    if (!r.ok || !probe.expectedVersion || r.version === probe.expectedVersion) return r;
    return { ...r, ok: false, detail: `${r.detail} version ${r.version ?? '(none reported)'}, expected ${probe.expectedVersion}` };
  });
  return { ok: checked.length > 0 && checked.every((r) => r.ok), detail: checked.map((r) => `${r.name} ${r.detail}${r.ok && r.version ? ` ${r.version}` : ''}`).join('; ') };
}

/** Finds the newest file in `dir` and checks it is younger than `maxAgeMs`. */
async function checkBackupAge(dir: string, maxAgeMs: number, now: number): Promise<PreflightCheck> {
  const name = `backup in ${dir} younger than ${formatDuration(maxAgeMs)}`;
  try {
    const entries = await readdir(dir);
    let newest = 0;
    for (const entry of entries) {
      const s = await stat(join(dir, entry));
      if (s.isFile()) newest = Math.max(newest, s.mtimeMs);
    }
    if (newest === 0) return { name, ok: false, detail: 'no backup file found' };
    const age = now - newest;
    return { name, ok: age <= maxAgeMs, detail: `newest is ${formatDuration(age)} old` };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Everything that must hold before green gets its first request: both colors ready, green's
 * deep health, the smoke suite against green directly, and (optionally) a fresh backup.
 */
export async function runPreflight(plan: Plan, blue: readonly string[], green: readonly string[], now: () => number, smoke: (url: string) => Promise<SmokeResult> = (url) => runSmokeSuite(url, { extraChecks: plan.preflight.checks, timeoutMs: plan.preflight.timeoutMs }), probe: HealthProbeOptions & { expectedVersion?: string | null } = {}): Promise<PreflightResult> {
  const t = plan.preflight.timeoutMs;
  const checks: PreflightCheck[] = [];
  const ready = await Promise.all([...blue, ...green].map((u) => probeHealth(u, plan.preflight.readyPath, t, probe)));
  checks.push(...ready.map((c) => ({ name: `ready ${c.name}`, ok: c.ok, detail: c.detail })));
  const deep = await Promise.all(green.map((u) => probeColorHealth([u], plan.preflight.deepPath, t, probe)));
  checks.push(...deep.map((c, i) => ({ name: `deep ${green[i] ?? ''}${plan.preflight.deepPath}`, ok: c.ok, detail: c.detail })));
  const firstGreen = green[0];
  if (plan.preflight.smoke && firstGreen) {
    const result = await smoke(firstGreen);
    checks.push(...result.checks.map((c) => ({ name: `smoke ${c.name}`, ok: c.ok, detail: c.detail })));
  }
  if (plan.preflight.backup) checks.push(await checkBackupAge(plan.preflight.backup.dir, plan.preflight.backup.maxAgeMs, now()));
  return { ok: checks.every((c) => c.ok), checks };
}
