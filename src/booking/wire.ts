import { AppError } from '../errors/index.js';
import type { CustomerRecord } from './customers.repo.js';
import type { ReservationRecord } from './reservations.repo.js';
import type { StaffRecord, TimeOffRecord } from './staff.repo.js';

/** Record → wire shape. Nullable columns become absent fields; instants become UTC ISO strings. */
export function iso(d: Date | number): string {
  return new Date(d).toISOString();
}

export interface WireStaff {
  id: string;
  displayName: string;
  active: boolean;
  userId?: string;
}

export interface WireCustomer {
  id: string;
  name: string;
  email: string;
  phone?: string;
  userId?: string;
}

export interface WireTimeOff {
  id: string;
  start: string;
  end: string;
  reason?: string;
}

export function toStaff(s: StaffRecord): WireStaff {
  return { id: s.id, displayName: s.displayName, active: s.active, ...(s.userId ? { userId: s.userId } : {}) };
}

export function toCustomer(c: CustomerRecord): WireCustomer {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    ...(c.phone ? { phone: c.phone } : {}),
    ...(c.userId ? { userId: c.userId } : {}),
  };
}

export function toTimeOff(t: TimeOffRecord): WireTimeOff {
  return { id: t.id, start: iso(t.start), end: iso(t.end), ...(t.reason ? { reason: t.reason } : {}) };
}

export interface WireReservation {
  readonly id: string;
  readonly serviceId: string;
  readonly staffId: string;
  readonly customerId: string;
  readonly start: string;
  readonly end: string;
  readonly status: ReservationRecord['status'];
  readonly notes?: string;
}

export function toReservation(r: ReservationRecord): WireReservation {
  return {
    id: r.id,
    serviceId: r.serviceId,
    staffId: r.staffId,
    customerId: r.customerId,
    start: iso(r.start),
    end: iso(r.end),
    status: r.status,
    ...(r.notes ? { notes: r.notes } : {}),
  };
}

/** Parses an ISO 8601 instant the schema already accepted; the field name goes into details. */
export function parseInstant(value: string, field: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new AppError('validation_error', 'The request is invalid', [{ field, message: 'is not a date-time' }]);
  return t;
}

export function notFound(what: string, field?: string): AppError {
  return new AppError('not_found', `${what} not found`, field ? { field } : undefined);
}
