import { randomBytes, randomUUID } from 'node:crypto';
import { digestsEqual } from '../access/index.js';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { MailAttachment, MailTransport } from '../mail/index.js';
import type { Clock } from '../shared/clock.js';
import { FEED_DAYS, FEED_MAX_EVENTS, feedUrl, formatFeedToken, hashFeedSecret, parseFeedFile } from './feeds.core.js';
import { buildIcs } from './ics.core.js';
import * as repo from './notifications.repo.js';
import type { FeedOwnerKind, MailContext } from './notifications.repo.js';
import { formatWhen, icsAttachment, renderReservationMail, type ReservationMailKind } from './reservation-mail.core.js';

const DAY = 86_400_000;

/** A reservation, named across tenants (what `dueReminders` returns). */
export interface ReservationRef {
  readonly tenantId: string;
  readonly reservationId: string;
}

/**
 * Outbound booking effects (issue 17): confirmation, change, cancellation and reminder mails
 * with an .ics attachment, and per-staff / per-customer iCal feeds. Mails are sent by jobs that
 * the reservation's transaction wrote (src/notifications/mail-jobs.ts, ADR 0024); a failed send
 * is retried by the queue and never undoes the booking. `send` / `sendReminder` take only ids.
 */
export interface NotificationsService {
  /** Renders and sends one mail of `kind` to the reservation's customer; false when nothing was sent. */
  send(kind: ReservationMailKind, ref: ReservationRef): Promise<boolean>;
  /** The reservation's .ics (METHOD:REQUEST) as an attachment, for the guest mails booking sends itself. */
  invitationFor(ref: ReservationRef): Promise<MailAttachment | null>;
  /** Reservations whose reminder is due at `now` (confirmed, start within the tenant's lead time, not yet sent). */
  dueReminders(now: number, limit?: number): Promise<ReservationRef[]>;
  /** Idempotent: claims `reminder_sent_at` first, so a second call (or a second worker) sends nothing. */
  sendReminder(ref: ReservationRef): Promise<boolean>;
  /** Issues a new feed URL for the owner, revoking the previous one (rotate = create). */
  createFeed(tenantId: string, owner: { kind: FeedOwnerKind; id: string }, actorUserId: string | null): Promise<{ url: string; createdAt: string }>;
  /** Revokes the owner's feed; 404 when there is none. */
  revokeFeed(tenantId: string, owner: { kind: FeedOwnerKind; id: string }): Promise<void>;
  /** The feed body for `<token>.ics`; 404 for unknown, tampered or revoked tokens. */
  feed(file: string): Promise<string>;
  /** Who is linked to the owner record (for "the staff member / customer themself"); null: no such record. */
  ownerUser(tenantId: string, owner: { kind: FeedOwnerKind; id: string }): Promise<{ userId: string | null } | null>;
}

const unknownFeed = () => new AppError('not_found', 'This calendar link is not valid');

export function createNotificationsService(deps: {
  db: Database;
  clock: Clock;
  mail: MailTransport;
  /** PUBLIC_URL: the host of every event UID. */
  publicUrl: string;
  /** MAIL_FROM: the ORGANIZER address of the .ics. */
  mailFrom: string;
  onMailError: (err: unknown) => void;
}): NotificationsService {
  const { db, clock } = deps;
  const organizerEmail = deps.mailFrom.match(/<([^>]+)>/)?.[1] ?? deps.mailFrom;

  function load(ref: ReservationRef): Promise<MailContext | null> {
    return withTenant(db, ref.tenantId, (tx) => repo.findMailContext(tx, ref.tenantId, ref.reservationId), { readOnly: true });
  }

  function render(kind: ReservationMailKind, c: MailContext) {
    return renderReservationMail(
      kind,
      { id: c.id, start: c.start.toISOString(), end: c.end.toISOString(), status: c.status, notes: c.notes, sequence: c.sequence },
      { name: c.tenantName, timezone: c.timezone, email: organizerEmail },
      { name: c.serviceName },
      { name: c.staffName },
      { name: c.customerName, email: c.customerEmail },
      deps.publicUrl,
      clock.now(),
    );
  }

  async function deliver(kind: ReservationMailKind, c: MailContext): Promise<boolean> {
    const m = render(kind, c);
    await deps.mail.send({ to: c.customerEmail, subject: m.subject, text: m.text, html: m.html, attachments: [icsAttachment(m.ics, m.icsMethod)] });
    return true;
  }

  async function send(kind: ReservationMailKind, ref: ReservationRef): Promise<boolean> {
    const c = await load(ref);
    if (!c) return false;
    return deliver(kind, c);
  }

  return {
    send,

    async invitationFor(ref) {
      const c = await load(ref);
      if (!c) return null;
      const m = render(c.status === 'pending' ? 'pending' : 'confirmed', c);
      return icsAttachment(m.ics, m.icsMethod);
    },

    async dueReminders(now, limit = 100) {
      return db.transaction((tx) => repo.findDueReminders(tx, new Date(now), Math.min(Math.max(limit, 1), 1000)), undefined, { readOnly: true });
    },

    async sendReminder(ref) {
      // Claim, then send: at most once. A failed send is not retried (the claim stays), which is
      // the right side to err on for a courtesy reminder; the queue may re-drive `send` itself.
      const c = await withTenant(db, ref.tenantId, async (tx) => {
        const ctx = await repo.findMailContext(tx, ref.tenantId, ref.reservationId);
        if (!ctx || ctx.start.getTime() <= clock.now()) return null;
        return (await repo.claimReminder(tx, ref.tenantId, ref.reservationId, new Date(clock.now()))) ? ctx : null;
      });
      if (!c) return false;
      return deliver('reminder', c);
    },

    async createFeed(tenantId, owner, actorUserId) {
      const id = randomUUID();
      const secret = randomBytes(32).toString('base64url');
      const now = new Date(clock.now());
      await withTenant(db, tenantId, async (tx) => {
        await repo.revokeLiveFeed(tx, tenantId, owner.kind, owner.id, now);
        await repo.insertFeed(tx, tenantId, { id, ownerKind: owner.kind, ownerId: owner.id, secretHash: hashFeedSecret(secret), createdBy: actorUserId, createdAt: now });
      });
      return { url: feedUrl(deps.publicUrl, formatFeedToken(id, secret)), createdAt: now.toISOString() };
    },

    async revokeFeed(tenantId, owner) {
      const n = await withTenant(db, tenantId, (tx) => repo.revokeLiveFeed(tx, tenantId, owner.kind, owner.id, new Date(clock.now())));
      if (n === 0) throw new AppError('not_found', 'There is no calendar link to revoke');
    },

    async feed(file) {
      const parts = parseFeedFile(file);
      if (!parts) throw unknownFeed();
      const f = await db.transaction((tx) => repo.findFeedById(tx, parts.id), undefined, { readOnly: true });
      if (!f || f.revokedAt !== null || !digestsEqual(Buffer.from(f.secretHash), hashFeedSecret(parts.secret))) throw unknownFeed();
      const now = clock.now();
      const rows = await withTenant(db, f.tenantId, (tx) =>
        repo.listFeedReservations(tx, f.tenantId, { kind: f.ownerKind, ownerId: f.ownerId, from: new Date(now - DAY), to: new Date(now + FEED_DAYS * DAY), limit: FEED_MAX_EVENTS }),
        { readOnly: true },
      );
      const first = rows[0];
      return buildIcs({
        method: 'PUBLISH',
        name: first ? first.tenantName : 'Bookings',
        timezone: first ? first.timezone : 'UTC',
        publicUrl: deps.publicUrl,
        now,
        events: rows.map((c) => ({
          id: c.id,
          sequence: c.sequence,
          start: c.start.toISOString(),
          end: c.end.toISOString(),
          summary: f.ownerKind === 'staff' ? `${c.serviceName}: ${c.customerName}` : `${c.serviceName} (${c.tenantName})`,
          description: `${c.serviceName} with ${c.staffName}\n${formatWhen(c.start.toISOString(), c.timezone)}`,
          status: c.status === 'pending' ? 'pending' : 'confirmed',
          organizer: { name: c.tenantName, email: organizerEmail },
        })),
      });
    },

    ownerUser(tenantId, owner) {
      return withTenant(db, tenantId, (tx) => (owner.kind === 'staff' ? repo.findStaffUser(tx, tenantId, owner.id) : repo.findCustomerUser(tx, tenantId, owner.id)), { readOnly: true });
    },
  };
}
