import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';

export interface LimiterStore {
  readonly kind: 'memory' | 'redis';
  /** A limiter of `points` per `durationSeconds`, in the shared store. */
  create(name: string, points: number, durationSeconds: number, blockSeconds?: number): RateLimiterAbstract;
  /** Same rule, in this process only (the degraded mode when Redis is down). */
  createLocal(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  close(): Promise<void>;
}

/**
 * In memory on the embedded default; in Redis when REDIS_URL is set, so every instance shares
 * counters and lockouts. Redis commands fail fast while the connection is down (no offline
 * queue), which is what lets auth routes answer 503 at once instead of hanging.
 */
export async function createLimiterStore(
  config: Pick<Config, 'redisUrl' | 'rateLimit'>,
  onRedisError: (err: unknown) => void = () => {},
): Promise<LimiterStore> {
  const prefix = config.rateLimit.keyPrefix;
  const createLocal = (name: string, points: number, duration: number, blockDuration = 0) =>
    new RateLimiterMemory({ keyPrefix: `${prefix}:${name}`, points, duration, blockDuration });
  if (!config.redisUrl) {
    return { kind: 'memory', create: createLocal, createLocal, close: async () => {} };
  }
  const client = new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastErrorAt = 0;
  client.on('error', (err) => {
    // Reconnection errors repeat every retry; report at most one per 10 s.
    if (Date.now() - lastErrorAt > 10_000) onRedisError(err);
    lastErrorAt = Date.now();
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', done);
    client.once('error', done);
  });
  return {
    kind: 'redis',
    create: (name, points, duration, blockDuration = 0) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${prefix}:${name}`,
        points,
        duration,
        blockDuration,
        rejectIfRedisNotReady: true,
      }),
    createLocal,
    async close() {
      client.disconnect();
    },
  };
}
