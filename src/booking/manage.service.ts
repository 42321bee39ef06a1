import { isExclusionViolation } from '../db/errors.js';
import { withTenant, type Database } from '../db/index.js';
import { digestsEqual } from '../access/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { guestRecipient, type BookingEffects } from './booking-effects.js';
import { decideManageAction, hashManageSecret, parseManageToken, type ManageAction } from './manage-links.core.js';
import { consumeManageLink, findManageLinkById, findTenantFace, type ManageLinkRecord } from './manage-links.repo.js';
import { issueManageLink } from './public.service.js';
import { canTransition, isBeforeCutoff } from './reservation-status.core.js';
import { findReservation, lockReservationForChange, updateStatus, type ReservationRecord } from './reservations.repo.js';
import type { ReservationsService } from './reservations.service.js';
import { findService, type ServiceRecord } from './services.repo.js';
import { findSettings, type TenantSettings } from './settings.repo.js';
import { iso, parseInstant } from './wire.js';

export interface ManagedReservationView {
  reservation: { id: string; serviceId: string; staffId: string; start: string; end: string; status: ReservationRecord['status']; holdExpiresAt?: string };
  tenant: { name: string; slug: string; timezone: string };
  service: { name: string; durationMinutes: number };
  can: { confirm: boolean; cancel: boolean; reschedule: boolean };
}

/**
 * Guest self-service through a manage link (ADR 0018): view, confirm, cancel, reschedule,
 * without an account. The token names one reservation; unknown or tampered tokens are 404
 * (like an unknown invitation), a used or expired link 422 `invalid_state` with the reason.
 */
export interface ManageService {
  view(token: string): Promise<ManagedReservationView>;
  confirm(token: string): Promise<ManagedReservationView>;
  cancel(token: string): Promise<ManagedReservationView>;
  /** Consumes the link, moves the booking in one UPDATE, mails a fresh link. */
  reschedule(token: string, start: string): Promise<ManagedReservationView>;
}

const unknownLink = () => new AppError('not_found', 'This link is not valid');

export function createManageService(deps: {
  db: Database;
  clock: Clock;
  reservations: ReservationsService;
  effects: BookingEffects;
}): ManageService {
  const { db, clock } = deps;

  /** The link the token names, its secret checked in constant time; null for anything else. */
  async function resolveLink(token: string): Promise<ManageLinkRecord> {
    const parts = parseManageToken(token);
    if (!parts) throw unknownLink();
    const link = await db.transaction((tx) => findManageLinkById(tx, parts.id), undefined, { readOnly: true });
    if (!link || !digestsEqual(Buffer.from(link.secretHash), hashManageSecret(parts.secret))) throw unknownLink();
    return link;
  }

  function allowed(link: { usedAt: Date | null }, r: ReservationRecord, action: ManageAction): void {
    const d = decideManageAction({ usedAt: link.usedAt?.getTime() ?? null }, { end: r.end.getTime() }, action, clock.now());
    if (!d.ok) throw new AppError('invalid_state', d.reason === 'link_used' ? 'This link was already used; use the newest one we sent' : 'This booking is over', { reason: d.reason });
  }

  function isLapsed(r: ReservationRecord, now: number): boolean {
    return r.status === 'pending' && r.holdExpiresAt !== null && r.holdExpiresAt.getTime() <= now;
  }

  async function render(link: ManageLinkRecord): Promise<ManagedReservationView> {
    return withTenant(db, link.tenantId, async (tx) => {
      const r = await findReservation(tx, link.tenantId, link.reservationId);
      if (!r) throw unknownLink();
      allowed(link, r, 'view');
      const settings = await findSettings(tx, link.tenantId);
      const service = await findService(tx, link.tenantId, r.serviceId);
      if (!service) throw unknownLink();
      return toView(r, settings, service, await findTenantFace(tx, link.tenantId), link);
    }, { readOnly: true });
  }

  function toView(r: ReservationRecord, settings: TenantSettings, service: ServiceRecord, tenant: { name: string; slug: string }, link: ManageLinkRecord): ManagedReservationView {
    const now = clock.now();
    const lapsed = isLapsed(r, now);
    const status = lapsed ? 'cancelled' : r.status;
    const beforeCutoff = isBeforeCutoff(now, r.start.getTime(), settings.cancellationCutoffMinutes);
    const usable = link.usedAt === null;
    return {
      reservation: {
        id: r.id,
        serviceId: r.serviceId,
        staffId: r.staffId,
        start: iso(r.start),
        end: iso(r.end),
        status,
        ...(r.holdExpiresAt && status === 'pending' ? { holdExpiresAt: iso(r.holdExpiresAt) } : {}),
      },
      tenant: { name: tenant.name, slug: tenant.slug, timezone: settings.timezone },
      service: { name: service.name, durationMinutes: service.durationMinutes },
      can: {
        confirm: usable && status === 'pending',
        cancel: usable && canTransition(status, 'cancelled') && beforeCutoff,
        reschedule: usable && (status === 'pending' || status === 'confirmed') && beforeCutoff,
      },
    };
  }

  /** Runs a mutation on the link's reservation in one tenant transaction (its staff row, then its row, locked). */
  async function mutate(
    token: string,
    action: Exclude<ManageAction, 'view'>,
    fn: (ctx: { tx: Parameters<Parameters<typeof withTenant>[2]>[0]; r: ReservationRecord; settings: TenantSettings; link: ManageLinkRecord }) => Promise<string[] | void>,
  ): Promise<ManageLinkRecord> {
    const link = await resolveLink(token);
    const jobs = await withTenant(db, link.tenantId, async (tx) => {
      // Staff row, then reservation row: the lock order of every reservation change.
      const r = await lockReservationForChange(tx, link.tenantId, link.reservationId);
      if (!r) throw unknownLink();
      allowed(link, r, action);
      const settings = await findSettings(tx, link.tenantId);
      return (await fn({ tx, r, settings, link })) ?? [];
    });
    // Mails written by the change (ADR 0024): sent now; after a crash, by the job worker.
    await deps.effects.dispatch(jobs);
    return link;
  }

  function assertCutoff(r: ReservationRecord, settings: TenantSettings): void {
    if (!isBeforeCutoff(clock.now(), r.start.getTime(), settings.cancellationCutoffMinutes)) {
      throw new AppError('invalid_state', 'The cancellation cutoff has passed', {
        reason: 'cancellation_cutoff',
        cancellationCutoffMinutes: settings.cancellationCutoffMinutes,
      });
    }
  }

  async function consume(tx: Parameters<Parameters<typeof withTenant>[2]>[0], link: ManageLinkRecord): Promise<void> {
    if (!(await consumeManageLink(tx, link.tenantId, link.id, new Date(clock.now())))) {
      throw new AppError('invalid_state', 'This link was already used; use the newest one we sent', { reason: 'link_used' });
    }
  }

  return {
    async view(token) {
      return render(await resolveLink(token));
    },

    async confirm(token) {
      const link = await mutate(token, 'confirm', async ({ tx, r, link }) => {
        if (r.status === 'confirmed') return; // following the link twice is fine
        if (r.status !== 'pending' || isLapsed(r, clock.now())) {
          throw new AppError('invalid_state', 'This booking can no longer be confirmed', {
            reason: isLapsed(r, clock.now()) ? 'hold_expired' : 'not_pending',
            from: r.status,
          });
        }
        await updateStatus(tx, link.tenantId, r.id, 'confirmed');
        return deps.effects.record(tx, { type: 'reservation.status_changed', tenantId: link.tenantId, reservationId: r.id, actorUserId: null, from: 'pending', to: 'confirmed' });
      });
      return render(link);
    },

    async cancel(token) {
      const link = await mutate(token, 'cancel', async ({ tx, r, settings, link }) => {
        if (!canTransition(r.status, 'cancelled') || isLapsed(r, clock.now())) {
          throw new AppError('invalid_state', `A ${r.status} reservation cannot be cancelled`, { from: r.status, to: 'cancelled' });
        }
        assertCutoff(r, settings);
        await consume(tx, link);
        await updateStatus(tx, link.tenantId, r.id, 'cancelled');
        return deps.effects.record(tx, { type: 'reservation.status_changed', tenantId: link.tenantId, reservationId: r.id, actorUserId: null, from: r.status, to: 'cancelled' });
      });
      return render({ ...link, usedAt: new Date(clock.now()) });
    },

    async reschedule(token, startText) {
      const start = parseInstant(startText, 'start');
      let staff: { staffId: string; service: ServiceRecord | null } | null = null;
      let link: ManageLinkRecord;
      try {
        link = await mutate(token, 'reschedule', async ({ tx, r, settings, link }) => {
          if (isLapsed(r, clock.now())) throw new AppError('invalid_state', 'This booking was released', { reason: 'hold_expired' });
          assertCutoff(r, settings);
          await consume(tx, link);
          staff = { staffId: r.staffId, service: await findService(tx, link.tenantId, r.serviceId) };
          const service = await deps.reservations.reschedule(tx, link.tenantId, settings, r, start);
          const fresh = await issueManageLink(tx, link.tenantId, r.id, clock.now());
          const to = { start: iso(start), end: iso(start + service.durationMinutes * 60_000) };
          // The new link goes out in a guest mail written with the move, its token sealed.
          const recipient = await guestRecipient(tx, link.tenantId, r.customerId);
          return deps.effects.record(
            tx,
            { type: 'reservation.rescheduled', tenantId: link.tenantId, reservationId: r.id, actorUserId: null, from: { start: iso(r.start), end: iso(r.end) }, to },
            recipient ? { kind: 'rescheduled', token: fresh, ...recipient, pendingUntil: null } : undefined,
          );
        });
      } catch (err) {
        const s = staff as { staffId: string; service: ServiceRecord | null } | null;
        if (s?.service && isExclusionViolation(err)) {
          const parts = parseManageToken(token);
          const l = parts ? await resolveLink(token) : null;
          if (l) return deps.reservations.explainExclusion(err, l.tenantId, s.staffId, start, s.service);
        }
        throw err;
      }
      // The old link is used up (`can` all false); the new one went to the guest's mailbox.
      return render({ ...link, usedAt: new Date(clock.now()) });
    },
  };
}
