import type { Queryable } from '../db/index.js';

export interface TenantSettings {
  timezone: string;
  currency: string;
  leadTimeMinutes: number;
  cancellationCutoffMinutes: number;
  /** Guest bookings are confirmed at once instead of pending until the emailed link is followed. */
  guestAutoConfirm: boolean;
  /** How long a pending guest booking holds its slot (5–1440 minutes). */
  guestHoldMinutes: number;
}

const DEFAULT_SETTINGS: TenantSettings = Object.freeze({
  timezone: 'UTC',
  currency: 'EUR',
  leadTimeMinutes: 0,
  cancellationCutoffMinutes: 0,
  guestAutoConfirm: false,
  guestHoldMinutes: 30,
});

const COLUMNS = `timezone, currency, lead_time_minutes AS "leadTimeMinutes", cancellation_cutoff_minutes AS "cancellationCutoffMinutes",
  guest_auto_confirm AS "guestAutoConfirm", guest_hold_minutes AS "guestHoldMinutes"`;

/** The tenant's settings, or the defaults when none were ever saved. */
export async function findSettings(tx: Queryable, tenantId: string): Promise<TenantSettings> {
  const res = await tx.query<TenantSettings>(`SELECT ${COLUMNS} FROM tenant_settings WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0] ?? { ...DEFAULT_SETTINGS };
}

export async function upsertSettings(tx: Queryable, tenantId: string, s: TenantSettings): Promise<TenantSettings> {
  const res = await tx.query<TenantSettings>(
    `INSERT INTO tenant_settings (tenant_id, timezone, currency, lead_time_minutes, cancellation_cutoff_minutes, guest_auto_confirm, guest_hold_minutes)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id) DO UPDATE SET timezone = EXCLUDED.timezone, currency = EXCLUDED.currency,
       lead_time_minutes = EXCLUDED.lead_time_minutes, cancellation_cutoff_minutes = EXCLUDED.cancellation_cutoff_minutes,
       guest_auto_confirm = EXCLUDED.guest_auto_confirm, guest_hold_minutes = EXCLUDED.guest_hold_minutes,
       updated_at = now()
     RETURNING ${COLUMNS}`,
    [tenantId, s.timezone, s.currency, s.leadTimeMinutes, s.cancellationCutoffMinutes, s.guestAutoConfirm, s.guestHoldMinutes],
  );
  return res.rows[0]!;
}

/** Resolves a public slug to its tenant (see the tenants_public_slug policy). Synthetic tenants are hidden. */
export async function findTenantBySlug(tx: Queryable, slug: string): Promise<{ id: string; name: string; slug: string } | null> {
  await tx.query(`SELECT set_config('app.public_slug', $1, true)`, [slug]);
  const res = await tx.query<{ id: string; name: string; slug: string }>(
    `SELECT id, name, slug FROM tenants WHERE slug = $1 AND NOT synthetic`,
    [slug],
  );
  await tx.query(`SELECT set_config('app.public_slug', '', true)`);
  return res.rows[0] ?? null;
}
