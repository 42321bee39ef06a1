/**
 * The reservation status machine, as data:
 * pending → confirmed → completed | no_show; pending | confirmed → cancelled.
 */
export const RESERVATION_STATUSES = ['pending', 'confirmed', 'completed', 'no_show', 'cancelled'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export const TRANSITIONS: Readonly<Record<ReservationStatus, readonly ReservationStatus[]>> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['completed', 'no_show', 'cancelled'],
  completed: [],
  no_show: [],
  cancelled: [],
};

/** Statuses that hold the slot (the exclusion constraint's WHERE clause). */
const ACTIVE_STATUSES: readonly ReservationStatus[] = ['pending', 'confirmed'];

export function canTransition(from: ReservationStatus, to: ReservationStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isActive(status: ReservationStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** A customer may cancel only up to `cutoffMinutes` before the start. */
export function isBeforeCutoff(now: number, start: number, cutoffMinutes: number): boolean {
  return now <= start - cutoffMinutes * 60_000;
}
