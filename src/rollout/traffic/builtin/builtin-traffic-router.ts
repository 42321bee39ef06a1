import { Agent, request } from 'undici';
import type { TrafficRouter } from '../traffic-router.js';

export interface BuiltinTrafficOptions {
  /** The built-in router's admin listener (not its traffic port), e.g. http://127.0.0.1:8081. */
  readonly adminUrl: string;
  readonly adminToken?: string;
  readonly timeoutMs?: number;
  /** Pause between in-flight polls while draining; injected so tests need not wait. */
  readonly pollMs?: number;
}

/**
 * Drives the built-in router over its admin API, so the controller treats it exactly like an
 * external router (and could run in another process).
 */
export function createBuiltinTrafficRouter(options: BuiltinTrafficOptions): TrafficRouter {
  const dispatcher = new Agent({ connections: 2, headersTimeout: options.timeoutMs ?? 5_000, bodyTimeout: options.timeoutMs ?? 5_000 });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.adminToken) headers.authorization = `Bearer ${options.adminToken}`;

  async function call(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await request(new URL(path, options.adminUrl), { method, headers, body: body === undefined ? null : JSON.stringify(body), dispatcher });
    const json = (await res.body.json()) as Record<string, unknown>;
    if (res.statusCode !== 200) throw new Error(`router ${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`);
    return json;
  }

  async function readInflight(): Promise<number> {
    const state = await call('GET', '/_router/state');
    return (state.colors as { green: { inflight: number } }).green.inflight;
  }

  return {
    name: 'builtin',
    async setGreenWeight(weight) {
      await call('PUT', '/_router/admin/weight', { greenWeight: weight });
    },
    async readGreenWeight() {
      const state = await call('GET', '/_router/state');
      if (typeof state.greenWeight !== 'number') throw new Error('router state has no greenWeight');
      return state.greenWeight;
    },
    async readColorHealth() {
      const state = await call('GET', '/_router/state');
      type View = { health?: unknown; instances?: readonly { url?: unknown; detail?: unknown }[] };
      const colors = (state.colors ?? {}) as { blue?: View; green?: View };
      const read = (view: View | undefined) => {
        const status = view?.health === 'healthy' || view?.health === 'unhealthy' ? view.health : 'unknown';
        const detail = (view?.instances ?? []).map((i) => `${String(i.url)} ${String(i.detail ?? '')}`.trim()).join('; ');
        return { status, detail: detail || status } as const;
      };
      return { blue: read(colors.blue), green: read(colors.green) };
    },
    async drainGreen(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if ((await readInflight()) === 0) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
      }
    },
    async close() {
      await dispatcher.close();
    },
  };
}
