import { randomBytes } from 'node:crypto';
import type { RolloutStatus } from '../controller.service.js';
import type { Plan } from '../plan.schema.js';
import { startRollout, type RunningRollout } from '../start-rollout.js';
import { ChildGroup, startBokaInstance, type BokaInstance } from './boka-instances.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startSharedDatabase, type SharedDatabase } from './shared-database.js';

/**
 * Blue and green Boka processes from this checkout on ONE shared database, with a fault proxy
 * in front of green (pass-through until armed). Shared by `npm run demo:rollout` and
 * test/rollout/e2e/. Everything listens on 127.0.0.1; `close()` kills every child process.
 */
export interface RolloutEnvironment {
  readonly database: SharedDatabase;
  readonly blue: BokaInstance;
  readonly green: BokaInstance;
  /** In front of green; the rollout's green URL. */
  readonly greenProxy: FaultProxy;
  /** Starts a router + controller (not yet started) against blue and the green proxy. */
  startRollout(plan: Plan, options?: { reportRoot?: string; onChange?: (status: RolloutStatus) => void }): Promise<RunningRollout>;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  readonly blueVersion?: string;
  readonly greenVersion?: string;
  /** Progress lines (`starting blue…`). */
  readonly log?: (line: string) => void;
}

export async function startRolloutEnvironment(options: EnvironmentOptions = {}): Promise<RolloutEnvironment> {
  const log = options.log ?? (() => undefined);
  const group = new ChildGroup();
  const rollouts: RunningRollout[] = [];
  let database: SharedDatabase | null = null;
  let greenProxy: FaultProxy | null = null;
  const close = async () => {
    for (const r of rollouts) {
      await r.controller.stop().catch(() => undefined);
      await r.close().catch(() => undefined);
    }
    await greenProxy?.close().catch(() => undefined);
    await group.close();
    await database?.close().catch(() => undefined);
  };
  try {
    database = await startSharedDatabase(process.env.DATABASE_URL);
    log(`database: ${database.kind === 'postgres' ? 'scratch database on the PostgreSQL server (DATABASE_URL)' : 'embedded PGlite served over the PostgreSQL wire protocol'}`);
    const secretKey = randomBytes(32).toString('base64url');
    const common = { databaseUrl: database.url, poolMax: database.poolMax, preparedStatements: database.preparedStatements, secretKey };
    // One after the other: each migrates (a no-op for the second) before it serves.
    const blue = await startBokaInstance(group, { ...common, version: options.blueVersion ?? '1.0.0-blue' });
    log(`blue  ${blue.version} on ${blue.url}`);
    const green = await startBokaInstance(group, { ...common, version: options.greenVersion ?? '1.1.0-green' });
    log(`green ${green.version} on ${green.url}`);
    await database.dropToAppRole();
    greenProxy = await startFaultProxy(green.url);
    const proxy = greenProxy;
    const db = database;
    return {
      database: db,
      blue,
      green,
      greenProxy: proxy,
      async startRollout(plan, opts = {}) {
        const rollout = await startRollout({
          plan,
          blue: [blue.url],
          green: [proxy.url],
          listenHost: '127.0.0.1',
          listenPort: 0,
          reportRoot: opts.reportRoot,
          onChange: opts.onChange,
        });
        rollouts.push(rollout);
        return rollout;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
