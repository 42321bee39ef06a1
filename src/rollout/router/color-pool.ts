import { Pool } from 'undici';
import type { Color } from '../decision.types.js';
import { createWindowStats, type WindowStats, type WindowSummary } from '../window-stats.core.js';
import { isRoutable, recordHealth, summarizeHealth, UNKNOWN_HEALTH, type HealthObservation, type HealthStatus, type HealthThresholds, type UpstreamHealth } from './edge.core.js';

/** A 5xx the router saw from (or on behalf of) a color; kept for the incident report. */
export interface RecentError {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly upstream: string;
  readonly detail: string | null;
}

export interface ColorSummary extends WindowSummary {
  readonly inflight: number;
  readonly upstreams: readonly string[];
  readonly recentErrors: readonly RecentError[];
}

const RECENT_ERRORS = 20;

/** One upstream as `GET /_router/state` shows it. */
export interface UpstreamView extends UpstreamHealth {
  readonly url: string;
}

/** Told of every finished attempt and every health change (the router's /metrics and log). */
export interface PoolObserver {
  attempt(color: Color, status: number, latencyMs: number): void;
  healthChanged(color: Color, url: string, next: UpstreamHealth, previous: UpstreamHealth): void;
}

type Upstream = { url: string; pool: Pool; health: UpstreamHealth };

/** One color: its upstream pools (round-robin), edge counters and in-flight count. */
export class ColorPool {
  readonly stats: WindowStats;
  inflight = 0;
  private next = 0;
  private readonly pools: Upstream[];
  private readonly recent: RecentError[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor(
    readonly color: Color,
    urls: readonly string[],
    retainMs: number,
    headersTimeoutMs: number,
    private readonly thresholds: HealthThresholds = { healthyAfter: 2, unhealthyAfter: 2 },
    private readonly observer: PoolObserver | null = null,
  ) {
    if (urls.length === 0) throw new Error(`${color}: at least one upstream URL is required`);
    this.pools = urls.map((url) => ({
      url: new URL(url).origin,
      pool: new Pool(new URL(url).origin, { connections: 128, headersTimeout: headersTimeoutMs, bodyTimeout: headersTimeoutMs, keepAliveTimeout: 4_000 }),
      health: UNKNOWN_HEALTH,
    }));
    this.stats = createWindowStats(retainMs);
  }

  get upstreams(): string[] {
    return this.pools.map((p) => p.url);
  }

  /** True while at least one upstream is not known to be down. */
  get routable(): boolean {
    return this.pools.some((p) => isRoutable(p.health));
  }

  get health(): HealthStatus {
    return summarizeHealth(this.pools.map((p) => p.health));
  }

  get upstreamHealth(): UpstreamView[] {
    return this.pools.map((p) => ({ url: p.url, ...p.health }));
  }

  /** Round-robin over the routable upstreams; over all of them when none is. */
  pickUpstream(): { url: string; pool: Pool } {
    for (let tried = 0; tried < this.pools.length; tried++) {
      const candidate = this.pools[this.next % this.pools.length];
      this.next = (this.next + 1) % this.pools.length;
      if (candidate && isRoutable(candidate.health)) return candidate;
    }
    const picked = this.pools[this.next % this.pools.length];
    this.next = (this.next + 1) % this.pools.length;
    if (!picked) throw new Error('unreachable: pools is never empty');
    return picked;
  }

  /** A readiness check's result, or a failed connection from live traffic (a hard failure). */
  recordHealth(url: string, observed: HealthObservation, at: number, detail: string | null): void {
    const upstream = this.pools.find((p) => p.url === url);
    if (!upstream) return;
    const previous = upstream.health;
    upstream.health = recordHealth(previous, observed, at, detail, this.thresholds);
    if (upstream.health.status !== previous.status) this.observer?.healthChanged(this.color, url, upstream.health, previous);
  }

  begin(): void {
    this.inflight++;
  }

  end(at: number, status: number, latencyMs: number, error: Omit<RecentError, 'at' | 'status'> | null): void {
    this.inflight--;
    this.stats.record(at, status, latencyMs);
    this.observer?.attempt(this.color, status, latencyMs);
    if (status >= 500 && error) {
      this.recent.push({ at, status, ...error });
      if (this.recent.length > RECENT_ERRORS) this.recent.shift();
    }
    if (this.inflight === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves true once no request to this color is in flight, false after `timeoutMs`. */
  waitForDrain(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(done);
    });
  }

  summarize(now: number, windowMs: number): ColorSummary {
    return {
      ...this.stats.summarize(now, windowMs),
      inflight: this.inflight,
      upstreams: this.upstreams,
      recentErrors: this.recent.filter((e) => e.at > now - windowMs),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.pool.close()));
  }
}
