import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import type { TrafficRouter } from '../traffic-router.js';
import { parseGreenWeight, renderNginxUpstream, type UpstreamSpec } from './nginx-config.core.js';

const run = promisify(execFile);

export interface NginxTrafficOptions extends UpstreamSpec {
  /** The include file we own; the operator's nginx.conf includes it inside `http {}`. */
  readonly includePath: string;
  readonly nginxBin?: string;
  /** Extra arguments for every nginx call, e.g. ['-p', prefix, '-c', conf]. */
  readonly nginxArgs?: readonly string[];
  /** How long to wait for reloaded workers to serve the new weights. */
  readonly reloadTimeoutMs?: number;
}

/**
 * Second traffic driver: writes a weighted upstream, validates it with `nginx -t` (restoring
 * the previous file on failure), reloads, and reads back from the reloaded workers themselves.
 * nginx does no session stickiness here: weights are per request.
 */
export function createNginxTrafficRouter(options: NginxTrafficOptions): TrafficRouter {
  const bin = options.nginxBin ?? 'nginx';
  const args = options.nginxArgs ?? [];
  let version = 0;
  let expectedVersion = '';

  async function nginx(...extra: string[]): Promise<string> {
    try {
      const { stdout, stderr } = await run(bin, [...args, ...extra], { timeout: 10_000 });
      return `${stdout}${stderr}`;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`nginx ${extra.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
    }
  }

  async function readLive(): Promise<{ greenWeight: number; version: string }> {
    const res = await request(`http://${options.statusListen}/_boka/weights`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    return (await res.body.json()) as { greenWeight: number; version: string };
  }

  return {
    name: 'nginx',
    async setGreenWeight(weight) {
      if (!Number.isFinite(weight) || weight < 0 || weight > 100) throw new RangeError(`green weight must be within 0..100, got ${weight}`);
      const previous = await readFile(options.includePath, 'utf8').catch(() => null);
      version++;
      expectedVersion = `${process.pid}-${version}`;
      const temp = `${options.includePath}.tmp`;
      await writeFile(temp, renderNginxUpstream(options, weight, expectedVersion));
      await rename(temp, options.includePath);
      try {
        await nginx('-t');
      } catch (error) {
        if (previous !== null) await writeFile(options.includePath, previous);
        throw error;
      }
      await nginx('-s', 'reload');
      // Reload is asynchronous: wait until a worker answers with the version just written.
      const deadline = Date.now() + (options.reloadTimeoutMs ?? 10_000);
      for (;;) {
        const live = await readLive().catch(() => null);
        if (live?.version === expectedVersion) return;
        if (Date.now() > deadline) throw new Error(`nginx did not load version ${expectedVersion} in time`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async readGreenWeight() {
      const dumped = await nginx('-T');
      const parsed = parseGreenWeight(dumped, options);
      const live = await readLive();
      if (parsed === undefined) throw new Error(`upstream ${options.upstreamName} not found in nginx -T`);
      if (parsed !== live.greenWeight) throw new Error(`nginx -T says ${parsed}% but workers serve ${live.greenWeight}%`);
      return live.greenWeight;
    },
    async drainGreen() {
      // nginx keeps old workers until their requests finish; there is no per-upstream count to wait on.
      return false;
    },
    async close() {},
  };
}
