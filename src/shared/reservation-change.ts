/**
 * A reservation change, the one description of it: every change records it in its own
 * transaction (`BookingEffects.record`, the outbox of ADR 0024), and its webhook messages and
 * customer mail are derived from it. There is no in-process event for it (ADR 0029). Instants
 * are UTC ISO strings; `actorUserId` is null when a guest or a manage link acted. `status` is
 * the new reservation's; `reason: 'hold_lapsed'` marks the cancellation of a guest hold nobody
 * confirmed (the cleanup job or a booking that needs the slot).
 */
export type ReservationChange =
  | {
    type: 'reservation.created';
    status: 'pending' | 'confirmed';
    tenantId: string;
    reservationId: string;
    actorUserId: string | null;
    staffId: string;
    customerId: string;
    start: string;
    end: string;
    channel: 'tenant' | 'public';
  }
  | {
    type: 'reservation.status_changed';
    reason?: 'hold_lapsed';
    tenantId: string;
    reservationId: string;
    actorUserId: string | null;
    from: string;
    to: string;
  }
  | {
    type: 'reservation.rescheduled';
    tenantId: string;
    reservationId: string;
    actorUserId: string | null;
    from: { start: string; end: string };
    to: { start: string; end: string };
  };
