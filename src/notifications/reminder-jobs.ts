import type { JobQueue } from '../jobs/index.js';
import type { NotificationsService, ReservationRef } from './notifications.service.js';

export const REMINDERS_DUE_JOB = 'reminders.due';
export const REMINDER_SEND_JOB = 'reminder.send';

/**
 * Reminders on the durable queue (ADR 0022, ADR 0025): a recurring job finds due reminders
 * (bounded per run) and enqueues one `reminder.send` job each; the send itself is idempotent
 * (`reminder_sent_at` is claimed first), so a second run after a crash sends nothing twice.
 */
export function registerReminderJobs(queue: JobQueue, opts: { notifications: NotificationsService; everyMs: number; batch: number; now: () => number }): void {
  const { notifications } = opts;
  queue.register(REMINDER_SEND_JOB, async (payload) => {
    await notifications.sendReminder(payload as ReservationRef);
  });
  queue.register(REMINDERS_DUE_JOB, async () => {
    for (const ref of await notifications.dueReminders(opts.now(), opts.batch)) {
      await queue.enqueue(REMINDER_SEND_JOB, { tenantId: ref.tenantId, reservationId: ref.reservationId });
    }
  }, { maxAttempts: 1 });
  queue.schedule(REMINDERS_DUE_JOB, opts.everyMs);
}
