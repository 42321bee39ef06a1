/** Booking mail with .ics attachments, reminders and iCal feeds (issue 17, docs/booking.md). */
export { createNotificationsService, type NotificationsService, type ReservationRef } from './notifications.service.js';
export { notificationRoutes } from './notifications.routes.js';
export { mailKindForChange, renderReservationMail, type ReservationMailKind, type RenderedReservationMail } from './reservation-mail.core.js';
export { registerReminderJobs, REMINDERS_DUE_JOB, REMINDER_SEND_JOB } from './reminder-jobs.js';
export { registerReservationMailJob, enqueueReservationMail, RESERVATION_MAIL_JOB } from './mail-jobs.js';
