import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';

/**
 * iCalendar (RFC 5545) for reservations, built with ical-generator (which folds lines and
 * escapes TEXT values, RFC 5545 §3.3.11). Pure: the clock reading arrives as `now`.
 */
export interface IcsEvent {
  /** The reservation id; the UID is `<id>@<host of PUBLIC_URL>`, stable for its whole life (RFC 5545 §3.8.4.7). */
  readonly id: string;
  /** RFC 5545 §3.8.7.4: increases with every change of time or status (migration 016 trigger). */
  readonly sequence: number;
  readonly start: string;
  readonly end: string;
  readonly summary: string;
  readonly description: string;
  readonly status: 'pending' | 'confirmed' | 'cancelled';
  readonly url?: string;
  readonly organizer: { readonly name: string; readonly email: string };
  readonly attendee?: { readonly name: string; readonly email: string };
}

export type IcsMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH';

const METHODS: Record<IcsMethod, ICalCalendarMethod> = {
  REQUEST: ICalCalendarMethod.REQUEST,
  CANCEL: ICalCalendarMethod.CANCEL,
  PUBLISH: ICalCalendarMethod.PUBLISH,
};

const STATUSES = { pending: ICalEventStatus.TENTATIVE, confirmed: ICalEventStatus.CONFIRMED, cancelled: ICalEventStatus.CANCELLED } as const;

/**
 * ical-generator escapes TEXT property values but writes the calendar NAME / X-WR-CALNAME and
 * x-properties verbatim, so a CR/LF in a tenant name would start a new property there. Control
 * characters go everywhere a name is used; TEXT escaping still applies on top.
 */
function singleLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** The UID of a reservation's event: the same in every mail and feed, so clients update one event. */
export function eventUid(reservationId: string, publicUrl: string): string {
  return `${reservationId}@${new URL(publicUrl).hostname}`;
}

/**
 * A VCALENDAR with one VEVENT per entry. REQUEST / CANCEL follow iTIP (RFC 5546 §3.2.2 and
 * §3.2.5: ORGANIZER and ATTENDEE present); PUBLISH is a read-only feed. DTSTART / DTEND are
 * UTC date-times (RFC 5545 §3.3.5 form 2), so no VTIMEZONE is needed; the tenant's zone is
 * named in X-WR-TIMEZONE and in the mail text.
 */
export function buildIcs(input: {
  method: IcsMethod;
  name: string;
  timezone: string;
  publicUrl: string;
  now: number;
  events: readonly IcsEvent[];
}): string {
  const cal = ical({ name: singleLine(input.name), method: METHODS[input.method], prodId: { company: 'Boka', product: 'booking', language: 'EN' } });
  cal.x([{ key: 'X-WR-TIMEZONE', value: singleLine(input.timezone) }]);
  for (const e of input.events) {
    cal.createEvent({
      id: eventUid(e.id, input.publicUrl),
      sequence: e.sequence,
      stamp: new Date(input.now),
      start: new Date(e.start),
      end: new Date(e.end),
      summary: e.summary,
      description: e.description,
      status: input.method === 'CANCEL' ? ICalEventStatus.CANCELLED : STATUSES[e.status],
      ...(e.url ? { url: e.url } : {}),
      organizer: { name: singleLine(e.organizer.name), email: e.organizer.email },
      attendees: e.attendee
        ? [{ name: singleLine(e.attendee.name), email: e.attendee.email, role: ICalAttendeeRole.REQ, status: ICalAttendeeStatus.ACCEPTED }]
        : [],
    });
  }
  return cal.toString();
}
