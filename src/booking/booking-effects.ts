import { decryptAtRest, encryptAtRest } from '../auth/secrets.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import type { JobQueue } from '../jobs/index.js';
import type { MailTransport } from '../mail/index.js';
import type { ReservationChange } from '../shared/reservation-change.js';
import { guestBookingMail, guestRescheduledMail, type CalendarInvite } from './booking-mail.js';
import { findTenantFace } from './manage-links.repo.js';
import * as repo from './reservations.repo.js';
import { findCustomer } from './customers.repo.js';
import { findService } from './services.repo.js';
import { findSettings } from './settings.repo.js';
import { iso } from './wire.js';

export const GUEST_MAIL_JOB = 'booking.guest_mail';

/** A guest mail to write with a change: the raw manage token only ever leaves sealed. */
export interface GuestMailOrder {
  kind: 'booking' | 'rescheduled';
  token: string;
  /** The address the guest typed (booking) or the customer record's (reschedule). */
  to: string;
  name: string;
  /** Pending until this instant (hold), or null. Booking mails only. */
  pendingUntil: string | null;
}

interface GuestMailJob {
  tenantId: string;
  reservationId: string;
  kind: GuestMailOrder['kind'];
  pendingUntil: string | null;
  /** AES-256-GCM (BOKA_SECRET_KEY) of `{reservationId, token, to, name}`: no token or address in clear. */
  sealed: string;
}

interface Sealed {
  reservationId: string;
  token: string;
  to: string;
  name: string;
}

/**
 * The rest of a change's effects, written in its transaction: webhook messages and the customer
 * mail job. Built in buildServices from src/webhooks and src/notifications (booking imports
 * neither); returns the ids of jobs to run right after the commit.
 */
export type RecordReservationEffects = (tx: Queryable, change: ReservationChange) => Promise<string[]>;

/**
 * The transactional outbox of booking (ADR 0024). Every reservation change calls `record` inside
 * its own transaction, so its mails and webhook messages commit or roll back with it; after the
 * commit the service calls `dispatch` with what `record` returned, which runs the mail jobs at
 * once (guests read their link right after booking). A crash in between leaves the jobs queued:
 * any instance's worker sends them later, once.
 */
export interface BookingEffects {
  record(tx: Queryable, change: ReservationChange, guest?: GuestMailOrder): Promise<string[]>;
  dispatch(ids: readonly string[]): Promise<void>;
  /**
   * The cleanup job's hold sweeper: cancels at most `batch` guest holds lapsed by `at`, each
   * tenant's in one transaction with their `reservation.cancelled` effects. Returns how many.
   */
  expireLapsedHolds(at: Date, batch: number): Promise<number>;
}

export function createBookingEffects(deps: {
  db: Database;
  jobs: JobQueue;
  /** BOKA_SECRET_KEY: seals the manage token in guest mail jobs. */
  secretKey: Buffer;
  record: RecordReservationEffects;
  /** JOBS_RUN_AFTER_COMMIT. */
  runAfterCommit: boolean;
  mail: MailTransport;
  publicUrl: string;
  calendarInvite: CalendarInvite;
  onMailError: (err: unknown) => void;
}): BookingEffects {
  const { db, jobs } = deps;

  async function sendGuestMail(payload: unknown): Promise<void> {
    const job = payload as GuestMailJob;
    const secret = JSON.parse(decryptAtRest(job.sealed, deps.secretKey)) as Sealed;
    // The seal names its reservation: a sealed token copied into another job row is refused.
    if (secret.reservationId !== job.reservationId) throw new Error('guest mail job does not match its sealed reservation');
    const found = await withTenant(db, job.tenantId, async (tx) => {
      const r = await repo.findReservation(tx, job.tenantId, job.reservationId);
      if (!r) return null;
      const service = await findService(tx, job.tenantId, r.serviceId);
      const settings = await findSettings(tx, job.tenantId);
      return { r, serviceName: service?.name ?? '', timezone: settings.timezone, tenantName: (await findTenantFace(tx, job.tenantId)).name };
    }, { readOnly: true });
    if (!found) return; // deleted with its tenant since
    const invite = await deps.calendarInvite({ tenantId: job.tenantId, reservationId: job.reservationId }).catch((err: unknown) => {
      deps.onMailError(err);
      return null;
    });
    const input = {
      to: secret.to, name: secret.name, tenantName: found.tenantName, serviceName: found.serviceName, start: iso(found.r.start),
      timezone: found.timezone, token: secret.token, publicUrl: deps.publicUrl,
    };
    await deps.mail.send(job.kind === 'booking' ? guestBookingMail({ ...input, pendingUntil: job.pendingUntil }, invite) : guestRescheduledMail(input, invite));
  }

  jobs.register(GUEST_MAIL_JOB, sendGuestMail);

  async function record(tx: Queryable, change: ReservationChange, guest?: GuestMailOrder): Promise<string[]> {
    const ids = await deps.record(tx, change);
    if (guest) {
      const sealed: Sealed = { reservationId: change.reservationId, token: guest.token, to: guest.to, name: guest.name };
      const job: GuestMailJob = {
        tenantId: change.tenantId, reservationId: change.reservationId, kind: guest.kind, pendingUntil: guest.pendingUntil,
        sealed: encryptAtRest(JSON.stringify(sealed), deps.secretKey),
      };
      const id = await jobs.enqueue(GUEST_MAIL_JOB, job, {}, tx);
      if (id) ids.push(id);
    }
    return ids;
  }

  const effects: BookingEffects = {
    record,
    async dispatch(ids) {
      if (deps.runAfterCommit) await jobs.dispatch(ids);
    },
    async expireLapsedHolds(at, batch) {
      const found = await db.transaction((tx) => repo.findLapsedHolds(tx, at, batch), undefined, { readOnly: true });
      const byTenant = new Map<string, string[]>();
      for (const h of found) byTenant.set(h.tenantId, [...(byTenant.get(h.tenantId) ?? []), h.reservationId]);
      let n = 0;
      for (const [tenantId, ids] of byTenant) {
        n += await withTenant(db, tenantId, async (tx) => {
          // Staff rows first, as every reservation change (`lockReservationForChange`).
          await repo.lockStaffOfReservations(tx, tenantId, ids);
          const cancelled = await repo.cancelLapsedHolds(tx, tenantId, ids, at);
          await recordLapsedHolds(effects, tx, tenantId, cancelled);
          return cancelled.length;
        });
      }
      return n;
    },
  };
  return effects;
}

/** Records the cancellation of lapsed holds a booking freed in its own transaction (no mail). */
export async function recordLapsedHolds(effects: BookingEffects, tx: Queryable, tenantId: string, ids: readonly string[]): Promise<void> {
  for (const reservationId of ids) {
    await effects.record(tx, { type: 'reservation.status_changed', tenantId, reservationId, actorUserId: null, from: 'pending', to: 'cancelled', reason: 'hold_lapsed' });
  }
}

/** The customer record's mail address and name for a guest mail written inside `tx`. */
export async function guestRecipient(tx: Queryable, tenantId: string, customerId: string): Promise<{ to: string; name: string } | null> {
  const c = await findCustomer(tx, tenantId, customerId);
  return c ? { to: c.email, name: c.name } : null;
}
