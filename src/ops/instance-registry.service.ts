import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { deleteInstance, insertInstance, pruneDeadInstances, touchInstance, type Database } from '../db/index.js';

/** This process's row in `boka_instances` (ADR 0010) while it runs. */
export interface InstanceRegistration {
  readonly id: string;
  /** One heartbeat now (the timer calls it every interval); exposed for tests and shutdown ordering. */
  beat(): Promise<void>;
  /** Stops heartbeating and deletes the row: a graceful shutdown leaves no stale entry behind. */
  stop(): Promise<void>;
}

export interface InstanceRegistrationOptions {
  readonly version: string;
  /** The newest migration this build ships. */
  readonly schemaLevel: number;
  readonly heartbeatSeconds: number;
  /** Missed heartbeats after which the row counts as dead. */
  readonly staleAfterBeats: number;
  readonly host?: string;
  readonly newId?: () => string;
  /** Heartbeat failures are reported, never thrown: a database blip must not kill a serving process. */
  readonly onError: (err: unknown) => void;
}

/**
 * Registers this process, then heartbeats every `heartbeatSeconds` on an unref'd timer. A row
 * found missing at a heartbeat (pruned while the process was suspended) is inserted again.
 */
export async function startInstanceRegistration(db: Database, options: InstanceRegistrationOptions): Promise<InstanceRegistration> {
  const id = (options.newId ?? randomUUID)();
  const row = {
    id,
    version: options.version,
    schemaLevel: options.schemaLevel,
    host: options.host ?? hostname(),
    staleAfterSeconds: options.heartbeatSeconds * options.staleAfterBeats,
  };
  await pruneDeadInstances(db);
  await insertInstance(db, row);
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const beat = () => {
    inFlight = inFlight.catch(() => {}).then(async () => {
      if (stopped) return;
      if (!(await touchInstance(db, id)) && !stopped) await insertInstance(db, row);
    });
    return inFlight;
  };
  const timer = setInterval(() => {
    beat().catch(options.onError);
  }, options.heartbeatSeconds * 1000);
  timer.unref();
  return {
    id,
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // A heartbeat already running finishes first, so it cannot re-insert the row after the delete.
      await inFlight.catch(() => {});
      await deleteInstance(db, id);
    },
  };
}
