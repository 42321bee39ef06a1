import type { Queryable } from '../db/index.js';
import type { JobQueue } from '../jobs/index.js';
import type { ReservationChange } from '../shared/reservation-change.js';
import type { NotificationsService } from './notifications.service.js';
import { mailKindForChange, type ReservationMailKind } from './reservation-mail.core.js';

export const RESERVATION_MAIL_JOB = 'reservation.mail';

interface ReservationMailJob {
  tenantId: string;
  reservationId: string;
  kind: ReservationMailKind;
}

/**
 * Reservation mail through the outbox (ADR 0024): the change's transaction writes a
 * `reservation.mail` job (ids and the kind only), the queue sends it. At-least-once: a process
 * that dies after the mail server accepted the message but before the job's completion commits
 * sends it again on retry (same .ics UID and SEQUENCE, so calendar clients update one event).
 */
export function registerReservationMailJob(queue: JobQueue, notifications: NotificationsService): void {
  queue.register(RESERVATION_MAIL_JOB, async (payload) => {
    const job = payload as ReservationMailJob;
    await notifications.send(job.kind, { tenantId: job.tenantId, reservationId: job.reservationId });
  });
}

/** Writes the change's mail job in `tx`, if the change calls for one; returns its id. */
export async function enqueueReservationMail(queue: JobQueue, tx: Queryable, change: ReservationChange): Promise<string | null> {
  const kind = mailKindForChange(change);
  if (!kind) return null;
  const job: ReservationMailJob = { tenantId: change.tenantId, reservationId: change.reservationId, kind };
  return queue.enqueue(RESERVATION_MAIL_JOB, job, {}, tx);
}
