import type { ReservationChange } from '../shared/reservation-change.js';
import { buildIcs, type IcsMethod } from './ics.core.js';

/**
 * Booking mail content (issue 17): one pure renderer for every outbound reservation mail, so
 * the sender (and later the job queue) only loads data and delivers. Every value from a tenant
 * or customer is HTML-escaped in `html`; the .ics escapes through ical-generator.
 */
export type ReservationMailKind = 'pending' | 'confirmed' | 'changed' | 'cancelled' | 'reminder';

/**
 * Which mail a reservation change sends the customer (docs/booking.md "Who gets what, once"), or
 * null. Guest bookings and manage-link reschedules (actor null) get booking's own guest mail,
 * which carries the .ics; a lapsed hold nobody confirmed is released without mail (the guest
 * mail said it would be, and the address was never proven).
 */
export function mailKindForChange(change: ReservationChange): ReservationMailKind | null {
  switch (change.type) {
    case 'reservation.created':
      if (change.channel === 'public' && change.actorUserId === null) return null;
      return change.status === 'pending' ? 'pending' : 'confirmed';
    case 'reservation.status_changed':
      if (change.reason === 'hold_lapsed') return null;
      return change.to === 'confirmed' ? 'confirmed' : change.to === 'cancelled' ? 'cancelled' : null;
    case 'reservation.rescheduled':
      return change.actorUserId === null ? null : 'changed';
  }
}

export interface MailReservation {
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly status: string;
  readonly notes: string | null;
  /** iCalendar SEQUENCE (reservations.ical_sequence). */
  readonly sequence: number;
}

export interface MailTenant {
  readonly name: string;
  readonly timezone: string;
  /** ORGANIZER address (MAIL_FROM): the tenant sends through the platform. */
  readonly email: string;
}

export interface RenderedReservationMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The calendar object; `icsMethod` is its METHOD (for the attachment's content type). */
  readonly ics: string;
  readonly icsMethod: IcsMethod;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** "Monday 7 December 2026 at 10:00 (Europe/Berlin)": local wall time, with the zone named. */
export function formatWhen(instant: string, timeZone: string): string {
  return `${new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(instant))} (${timeZone})`;
}

const HEADLINES: Record<ReservationMailKind, (tenant: string) => { subject: string; line: string }> = {
  pending: (t) => ({ subject: `Booking request received by ${t}`, line: 'Your booking request was received and awaits confirmation.' }),
  confirmed: (t) => ({ subject: `Your booking with ${t} is confirmed`, line: 'Your booking is confirmed.' }),
  changed: (t) => ({ subject: `Your booking with ${t} was changed`, line: 'Your booking was changed; the new time is below.' }),
  cancelled: (t) => ({ subject: `Your booking with ${t} was cancelled`, line: 'Your booking was cancelled.' }),
  reminder: (t) => ({ subject: `Reminder: your booking with ${t}`, line: 'This is a reminder of your upcoming booking.' }),
};

/**
 * Subject, text, HTML and .ics for one reservation mail. `now` stamps the .ics (DTSTAMP);
 * METHOD is CANCEL for a cancellation, REQUEST otherwise (RFC 5546 §3.2).
 */
export function renderReservationMail(
  kind: ReservationMailKind,
  reservation: MailReservation,
  tenant: MailTenant,
  service: { readonly name: string },
  staff: { readonly name: string },
  recipient: { readonly name: string; readonly email: string },
  publicUrl: string,
  now: number,
): RenderedReservationMail {
  const { subject, line } = HEADLINES[kind](tenant.name);
  const at = formatWhen(reservation.start, tenant.timezone);
  const what = `${service.name} with ${staff.name}`;
  const text = [
    `Hello ${recipient.name},`,
    '',
    line,
    '',
    `${tenant.name}: ${what}`,
    `When: ${at}`,
    ...(reservation.notes ? [`Notes: ${reservation.notes}`] : []),
    '',
    kind === 'cancelled' ? 'The attached calendar file removes it from your calendar.' : 'The attached calendar file adds it to your calendar.',
  ].join('\n') + '\n';
  const html = [
    `<p>Hello ${escapeHtml(recipient.name)},</p>`,
    `<p>${escapeHtml(line)}</p>`,
    `<p><strong>${escapeHtml(tenant.name)}</strong>: ${escapeHtml(what)}<br>When: ${escapeHtml(at)}</p>`,
    ...(reservation.notes ? [`<p>Notes: ${escapeHtml(reservation.notes)}</p>`] : []),
  ].join('\n');
  const icsMethod: IcsMethod = kind === 'cancelled' ? 'CANCEL' : 'REQUEST';
  const status = kind === 'cancelled' ? 'cancelled' : reservation.status === 'pending' ? 'pending' : 'confirmed';
  const ics = buildIcs({
    method: icsMethod,
    name: tenant.name,
    timezone: tenant.timezone,
    publicUrl,
    now,
    events: [{
      id: reservation.id,
      sequence: reservation.sequence,
      start: reservation.start,
      end: reservation.end,
      summary: `${service.name} (${tenant.name})`,
      description: `${what}\n${at}`,
      status,
      organizer: { name: tenant.name, email: tenant.email },
      attendee: { name: recipient.name, email: recipient.email },
    }],
  });
  return { subject, text, html, ics, icsMethod };
}

/** The .ics as a mail attachment (iMIP, RFC 6047 §2.4: the METHOD repeated in the content type). */
export function icsAttachment(ics: string, method: string): { filename: string; contentType: string; content: string } {
  return { filename: 'booking.ics', contentType: `text/calendar; charset=utf-8; method=${method}`, content: ics };
}
