import type { Actor, TenantRole } from '../access/index.js';
import { findByToken, issueToken } from '../auth/one-time-tokens.js';
import { assertVerifiedIfRequired, findSettings } from '../booking/settings.repo.js';
import { findUserById, normalizeEmail } from '../auth/users.repo.js';
import { isUniqueViolation } from '../db/errors.js';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { MailTransport } from '../mail/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { decodeCursor, toPage } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { checkRoleAssignment, mayInvite } from '../tenancy/escalation.core.js';
import { findMemberRole, findMemberRoleByEmail, insertMember } from '../tenancy/members.repo.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import * as repo from './invitations.repo.js';
import type { InvitationRecord } from './invitations.repo.js';

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
const TOKEN_PREFIX = 'inv_';

export interface WireInvitation {
  readonly id: string;
  readonly email: string;
  readonly role: TenantRole;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export function toWireInvitation(i: InvitationRecord): WireInvitation {
  return { id: i.id, email: i.email, role: i.role, createdAt: i.createdAt.toISOString(), expiresAt: i.expiresAt.toISOString() };
}

/**
 * Invitations to join a tenant. Each change emits its event (invitation.created, .revoked,
 * .accepted).
 */
export interface InvitationsService {
  /** Mails a one-time token; returns it too, for the route to echo outside production. */
  create(tenantId: string, actor: Actor, input: { email: string; role: TenantRole }): Promise<{ invitation: InvitationRecord; token: string }>;
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<{ items: WireInvitation[]; nextCursor: string | null }>;
  revoke(tenantId: string, actor: Actor, id: string): Promise<void>;
  /** The signed-in user whose email matches becomes a member with the invited role. */
  accept(caller: { userId: string; meta: RequestMeta }, token: string): Promise<{ tenantId: string; role: TenantRole; invitationId: string }>;
}

/**
 * Invitations to join a tenant. The one-time token (`inv_<id>.<secret>`, 256-bit secret) is
 * mailed; only SHA-256(secret) is stored and compared in constant time (ASVS 2.9.2, 3.5.2).
 * Tokens expire after 7 days and are single use.
 */
export function createInvitationsService(deps: {
  db: Database;
  clock: Clock;
  events: EventHub;
  mail: MailTransport;
  memberships: MembershipResolver;
  tenantName: (tenantId: string) => Promise<string>;
  /**
   * Spends one invitation from the inviter's and the tenant's hourly budgets, or throws 429:
   * every invitation sends a mail, so unthrottled it is a mail relay.
   */
  spendInvitation?: (tenantId: string, inviterId: string) => Promise<void>;
  /** Page the mail links to (`<PUBLIC_URL>/invitations/accept`, `#token=…` appended); absent: code only. */
  acceptUrl?: string;
}): InvitationsService {
  const { db, clock } = deps;
  const gone = (reason: string, message: string) => new AppError('invalid_state', message, { reason });

  return {
    async create(tenantId, actor, input) {
      const check = checkRoleAssignment(actor.role, null, input.role);
      if (!check.ok) throw new AppError('insufficient_permissions', check.reason, { required: 'members.manage', role: actor.role });
      await deps.spendInvitation?.(tenantId, actor.userId);
      const { id, token, secretHash } = issueToken(TOKEN_PREFIX);
      const now = new Date(clock.now());
      const invitation = await withTenant(db, tenantId, async (tx) => {
        if (await findMemberRoleByEmail(tx, tenantId, normalizeEmail(input.email))) {
          throw new AppError('duplicate_resource', 'This person is already a member', { field: 'email' });
        }
        await repo.revokePendingFor(tx, tenantId, input.email, now);
        return repo.insertInvitation(tx, tenantId, {
          id,
          email: input.email,
          role: input.role,
          tokenHash: secretHash,
          invitedBy: actor.userId,
          createdAt: now,
          expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
        });
      });
      const tenantName = await deps.tenantName(tenantId);
      await deps.mail.send({
        to: invitation.email,
        // The tenant name is user-chosen text: it stays in the body, never in the subject (what
        // a mail client shows before anyone opens the message).
        subject: 'You are invited to join a team on Boka',
        text:
          `You have been invited to join ${tenantName} as ${invitation.role}.\n\n` +
          `Sign in (or sign up with this address) and accept with this one-time code, valid for 7 days:\n\n${token}\n` +
          (deps.acceptUrl ? `\nOr open this link and sign in:\n${deps.acceptUrl}#token=${token}\n` : ''),
      });
      deps.events.emit('invitation.created', {
        tenantId, invitationId: invitation.id, actorUserId: actor.userId, email: invitation.email, role: invitation.role, meta: actor.meta,
      });
      return { invitation, token };
    },

    list(tenantId, query) {
      const after = decodeCursor(query.cursor, isUuid);
      return withTenant(db, tenantId, async (tx) => {
        const rows = await repo.listPending(tx, tenantId, { after, limit: query.limit + 1, now: new Date(clock.now()) });
        const page = toPage(rows, query.limit, (i) => i.id);
        return { items: page.items.map(toWireInvitation), nextCursor: page.nextCursor };
      });
    },

    async revoke(tenantId, actor, id) {
      const ok = isUuid(id) && (await withTenant(db, tenantId, (tx) => repo.revokeInvitation(tx, tenantId, id, new Date(clock.now()))));
      if (!ok) throw new AppError('not_found', 'Invitation not found');
      deps.events.emit('invitation.revoked', { tenantId, invitationId: id, actorUserId: actor.userId, meta: actor.meta });
    },

    async accept(caller, token) {
      const { userId } = caller;
      // A malformed token, an unknown id and a wrong secret answer alike.
      const inv = await findByToken(token, TOKEN_PREFIX, (id) => db.transaction((tx) => repo.findInvitationById(tx, id)), (i) => i.tokenHash);
      if (!inv) throw new AppError('not_found', 'Invitation not found');
      const now = new Date(clock.now());
      if (inv.revokedAt) throw gone('revoked', 'This invitation was revoked');
      if (inv.acceptedAt) throw gone('used', 'This invitation was already used');
      if (inv.expiresAt.getTime() <= now.getTime()) throw gone('expired', 'This invitation has expired');
      const user = await findUserById(db, userId);
      if (!user || normalizeEmail(user.email) !== normalizeEmail(inv.email)) {
        throw new AppError('forbidden', 'This invitation was sent to another email address');
      }
      const inviter = inv.invitedBy === null ? null : await findUserById(db, inv.invitedBy);
      try {
        await withTenant(db, inv.tenantId, async (tx) => {
          // The inviter's authority is checked now, not only when they invited: a manager
          // demoted (or gone) since cannot still bring someone in as staff.
          const inviterRole = !inviter ? null : inviter.isSuperadmin ? 'superadmin' : await findMemberRole(tx, inv.tenantId, inviter.id);
          if (!mayInvite(inviterRole, inv.role)) throw gone('inviter_lost_authority', 'Whoever sent this invitation can no longer grant this role');
          if (await findMemberRole(tx, inv.tenantId, userId)) {
            throw new AppError('duplicate_resource', 'You are already a member of this tenant');
          }
          // The tenant may ask joiners for a verified address (ADR 0021); the invitation stays usable.
          assertVerifiedIfRequired(await findSettings(tx, inv.tenantId), user);
          if (!(await repo.markAccepted(tx, inv.tenantId, inv.id, userId, now))) throw gone('used', 'This invitation was already used');
          await insertMember(tx, inv.tenantId, userId, inv.role);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('duplicate_resource', 'You are already a member of this tenant');
        throw err;
      }
      await deps.memberships.invalidate(inv.tenantId, userId);
      deps.events.emit('invitation.accepted', { tenantId: inv.tenantId, invitationId: inv.id, userId, role: inv.role, meta: caller.meta });
      // Invitations are the only way in, so this is where a member is added; the inviter granted it.
      deps.events.emit('member.added', { tenantId: inv.tenantId, actorUserId: inviter!.id, userId, role: inv.role, meta: caller.meta });
      return { tenantId: inv.tenantId, role: inv.role, invitationId: inv.id };
    },
  };
}
