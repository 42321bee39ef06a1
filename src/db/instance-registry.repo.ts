import type { Queryable } from './database.js';
import type { RegisteredInstance } from './migration-plan.core.js';

/** Rows dead for longer than this are deleted when an instance registers (a crash leaves one behind). */
const PRUNE_AFTER_SECONDS = 24 * 3600;

export interface InstanceRow {
  readonly id: string;
  readonly version: string;
  readonly schemaLevel: number;
  readonly host: string;
  readonly staleAfterSeconds: number;
}

/** Inserts this process's row (its clock is the database's: one clock for every host). */
export async function insertInstance(db: Queryable, row: InstanceRow): Promise<void> {
  await db.query(
    `INSERT INTO boka_instances (id, version, schema_level, host, stale_after_seconds) VALUES ($1, $2, $3, $4, $5)`,
    [row.id, row.version, row.schemaLevel, row.host, row.staleAfterSeconds],
  );
}

/** Refreshes the heartbeat; false when the row is gone (pruned while this process was frozen). */
export async function touchInstance(db: Queryable, id: string): Promise<boolean> {
  const res = await db.query(`UPDATE boka_instances SET last_seen_at = now() WHERE id = $1`, [id]);
  return res.rowCount > 0;
}

export async function deleteInstance(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM boka_instances WHERE id = $1`, [id]);
}

/** Deletes rows that stopped heartbeating a day ago: long past stale, kept meanwhile for diagnosis. */
export async function pruneDeadInstances(db: Queryable): Promise<number> {
  const res = await db.query(
    `DELETE FROM boka_instances WHERE last_seen_at + make_interval(secs => stale_after_seconds + $1) < now()`,
    [PRUNE_AFTER_SECONDS],
  );
  return res.rowCount;
}

/**
 * Every registered instance with the database's current time, for the migration gate. Read as
 * the owner (the application role may not read versions and hosts). Empty before migration 006.
 */
export async function listInstances(db: Queryable): Promise<{ now: Date; instances: RegisteredInstance[] }> {
  const clock = await db.query<{ now: Date; present: boolean }>(`SELECT now() AS now, to_regclass('boka_instances') IS NOT NULL AS present`);
  const now = new Date(clock.rows[0]!.now);
  if (!clock.rows[0]!.present) return { now, instances: [] };
  const res = await db.query<{
    id: string;
    version: string;
    schema_level: number;
    host: string;
    started_at: Date;
    last_seen_at: Date;
    stale_after_seconds: number;
  }>(`SELECT id, version, schema_level, host, started_at, last_seen_at, stale_after_seconds FROM boka_instances ORDER BY started_at, id`);
  return {
    now,
    instances: res.rows.map((r) => ({
      id: r.id,
      version: r.version,
      schemaLevel: Number(r.schema_level),
      host: r.host,
      startedAt: new Date(r.started_at),
      lastSeenAt: new Date(r.last_seen_at),
      staleAfterSeconds: Number(r.stale_after_seconds),
    })),
  };
}
