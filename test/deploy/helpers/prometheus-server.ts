import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, waitForOk, type ChildGroup } from '../../../src/rollout/demo/boka-instances.js';

export interface PrometheusServer {
  readonly url: string;
  /** Instant query; throws unless Prometheus answers `success`. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  alerts(): Promise<{ labels: Record<string, string>; state: string; value: string }[]>;
  /** Polls `check` every 500 ms until it returns a value, or throws after `timeoutMs` naming `what`. */
  waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T>;
  close(): Promise<void>;
}

export interface PrometheusTarget {
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The Debian `prometheus` binary on a free loopback port (it cannot listen on port 0), with a
 * 1 s scrape and evaluation interval, a scratch TSDB directory and the given rule file. The
 * process belongs to `group`, which kills it with the rest.
 */
export async function startPrometheus(group: ChildGroup, options: { targets: readonly PrometheusTarget[]; rules: string }): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'boka-prometheus-'));
  writeFileSync(join(dir, 'rules.yaml'), options.rules);
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: ['rules.yaml'],
    scrape_configs: [{ job_name: 'boka', static_configs: options.targets.map((t) => ({ targets: [t.address], labels: t.labels })) }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  const child = group.add(
    spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  });
  try {
    await waitForOk(`${url}/-/ready`, 30_000, () => child.exitCode !== null);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prometheus did not start: ${error instanceof Error ? error.message : String(error)}\n${lines.join('\n')}`);
  }

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; error?: string; data: T };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  return {
    url,
    async query(promql) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
      return data.result;
    },
    async alerts() {
      return (await api<{ alerts: { labels: Record<string, string>; state: string; value: string }[] }>('/api/v1/alerts')).alerts;
    },
    async waitFor(what, timeoutMs, check) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        try {
          const value = await check();
          if (value !== undefined) return value;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        await sleep(500);
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
