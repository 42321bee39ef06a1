/** Booking mail with .ics attachments, reminders and iCal feeds (issue 17, docs/booking.md). */
export { createNotificationsService, type NotificationsService, type ReservationRef } from './notifications.service.js';
export { notificationRoutes } from './notifications.routes.js';
export { renderReservationMail, type ReservationMailKind, type RenderedReservationMail } from './reservation-mail.core.js';
