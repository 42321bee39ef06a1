import { withTenant, type Database, type Queryable } from '../db/index.js';

/**
 * The synthetic probe the deep health check signs in as. Fixed ids, so every instance on one
 * database shares the same rows and creating them is idempotent. The rows are `synthetic`:
 * user-facing lists hide them and metrics ignore them.
 */
export const PROBE = {
  userId: '00000000-0000-4000-8000-0000b0ca0001',
  email: 'health-probe@boka.invalid',
  /** The probe user owns tenant A and is not a member of tenant B (the isolation check). */
  tenantA: '00000000-0000-4000-8000-0000b0ca00a1',
  tenantB: '00000000-0000-4000-8000-0000b0ca00b1',
} as const;

/** Creates (or refreshes the password of) the probe user and both probe tenants. */
export async function ensureProbeRows(db: Database, passwordHash: string): Promise<void> {
  await db.query(
    `INSERT INTO users (id, email, email_normalized, name, password_hash, synthetic)
     VALUES ($1, $2, $2, 'Health probe', $3, true)
     ON CONFLICT (id) DO UPDATE SET password_hash = EXCLUDED.password_hash, synthetic = true`,
    [PROBE.userId, PROBE.email, passwordHash],
  );
  for (const [tenantId, slug] of [
    [PROBE.tenantA, 'boka-health-probe-a'],
    [PROBE.tenantB, 'boka-health-probe-b'],
  ] as const) {
    await withTenant(db, tenantId, async (tx) => {
      await tx.query(
        `INSERT INTO tenants (id, name, slug, synthetic) VALUES ($1, $2, $2, true) ON CONFLICT (id) DO NOTHING`,
        [tenantId, slug],
      );
      if (tenantId === PROBE.tenantA) {
        await tx.query(
          `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner') ON CONFLICT DO NOTHING`,
          [tenantId, PROBE.userId],
        );
      }
    });
  }
}

/** The cheapest round trip: proves that a connection works and the server answers. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.query('SELECT 1');
}

/** Reads a tenant row while scoped (RLS) to another tenant: must return nothing. */
export async function readTenantScopedTo(tx: Queryable, tenantId: string): Promise<number> {
  const res = await tx.query(`SELECT id FROM tenants WHERE id = $1`, [tenantId]);
  return res.rows.length;
}

/** Probe sessions are ended by the check itself; delete them so they do not pile up. */
export async function deleteEndedProbeSessions(db: Database): Promise<void> {
  await db.query(`DELETE FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL`, [PROBE.userId]);
}
