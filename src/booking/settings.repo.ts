import { AppError } from '../errors/index.js';
import type { Queryable } from '../db/index.js';

export interface TenantSettings {
  timezone: string;
  currency: string;
  leadTimeMinutes: number;
  cancellationCutoffMinutes: number;
  /** Origins a widget may call the public routes from (CORS, ADR 0014); canonical, at most MAX_ALLOWED_ORIGINS. */
  allowedOrigins: string[];
  /** Booking as a customer and accepting an invitation need a verified email (migration 009). */
  requireVerifiedEmail: boolean;
  /** Guest bookings are confirmed at once instead of pending until the emailed link is followed. */
  guestAutoConfirm: boolean;
  /** How long a pending guest booking holds its slot (5–1440 minutes). */
  guestHoldMinutes: number;
  /** Minutes before the start a reminder mail goes out; 0 = no reminders (migration 016). */
  reminderLeadMinutes: number;
  /** A booking may start at most this many days after now; null = no horizon (migration 015). */
  bookingHorizonDays: number | null;
  /** Active bookings one staff member may have on one local date (tenant zone); null = unlimited. */
  maxBookingsPerStaffDay: number | null;
  /** Active (pending or confirmed) future bookings one customer may hold; null = unlimited. */
  maxFutureBookingsPerCustomer: number | null;
}

/** Bound on `allowedOrigins`, as in migration 013's CHECK. */
export const MAX_ALLOWED_ORIGINS = 20;

const DEFAULT_SETTINGS: TenantSettings = Object.freeze({
  timezone: 'UTC',
  currency: 'EUR',
  leadTimeMinutes: 0,
  cancellationCutoffMinutes: 0,
  allowedOrigins: [],
  requireVerifiedEmail: false,
  guestAutoConfirm: false,
  guestHoldMinutes: 30,
  reminderLeadMinutes: 1440,
  bookingHorizonDays: null,
  maxBookingsPerStaffDay: null,
  maxFutureBookingsPerCustomer: null,
});

const COLUMNS = `timezone, currency, lead_time_minutes AS "leadTimeMinutes", cancellation_cutoff_minutes AS "cancellationCutoffMinutes",
  allowed_origins AS "allowedOrigins", require_verified_email AS "requireVerifiedEmail",
  guest_auto_confirm AS "guestAutoConfirm", guest_hold_minutes AS "guestHoldMinutes",
  reminder_lead_minutes AS "reminderLeadMinutes",
  booking_horizon_days AS "bookingHorizonDays", max_bookings_per_staff_day AS "maxBookingsPerStaffDay",
  max_future_bookings_per_customer AS "maxFutureBookingsPerCustomer"`;

/** The tenant's settings, or the defaults when none were ever saved. */
export async function findSettings(tx: Queryable, tenantId: string): Promise<TenantSettings> {
  const res = await tx.query<TenantSettings>(`SELECT ${COLUMNS} FROM tenant_settings WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0] ?? { ...DEFAULT_SETTINGS, allowedOrigins: [] };
}

export async function upsertSettings(tx: Queryable, tenantId: string, s: TenantSettings): Promise<TenantSettings> {
  const res = await tx.query<TenantSettings>(
    `INSERT INTO tenant_settings (tenant_id, timezone, currency, lead_time_minutes, cancellation_cutoff_minutes, allowed_origins,
       require_verified_email, guest_auto_confirm, guest_hold_minutes, reminder_lead_minutes, booking_horizon_days,
       max_bookings_per_staff_day, max_future_bookings_per_customer)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (tenant_id) DO UPDATE SET timezone = EXCLUDED.timezone, currency = EXCLUDED.currency,
       lead_time_minutes = EXCLUDED.lead_time_minutes, cancellation_cutoff_minutes = EXCLUDED.cancellation_cutoff_minutes,
       allowed_origins = EXCLUDED.allowed_origins, require_verified_email = EXCLUDED.require_verified_email,
       guest_auto_confirm = EXCLUDED.guest_auto_confirm, guest_hold_minutes = EXCLUDED.guest_hold_minutes,
       reminder_lead_minutes = EXCLUDED.reminder_lead_minutes,
       booking_horizon_days = EXCLUDED.booking_horizon_days, max_bookings_per_staff_day = EXCLUDED.max_bookings_per_staff_day,
       max_future_bookings_per_customer = EXCLUDED.max_future_bookings_per_customer, updated_at = now()
     RETURNING ${COLUMNS}`,
    [tenantId, s.timezone, s.currency, s.leadTimeMinutes, s.cancellationCutoffMinutes, s.allowedOrigins, s.requireVerifiedEmail,
      s.guestAutoConfirm, s.guestHoldMinutes, s.reminderLeadMinutes, s.bookingHorizonDays, s.maxBookingsPerStaffDay, s.maxFutureBookingsPerCustomer],
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

/**
 * The tenant's `requireVerifiedEmail` rule (ADR 0021) for a user about to book as a customer or
 * to join: `email_not_verified` (403) when the tenant asks for a verified address and the
 * account has none. Checked inside the caller's transaction, against the settings it read.
 */
export function assertVerifiedIfRequired(settings: Pick<TenantSettings, 'requireVerifiedEmail'>, user: { emailVerifiedAt: Date | null }): void {
  if (settings.requireVerifiedEmail && !user.emailVerifiedAt) {
    throw new AppError('email_not_verified', 'This business asks for a verified e-mail address: follow the link we sent you, or ask for a new one', {
      reason: 'tenant_requires_verified_email',
    });
  }
}
