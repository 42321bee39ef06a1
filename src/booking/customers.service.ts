import { randomUUID } from 'node:crypto';
import type { Actor } from '../access/index.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { EventHub } from '../shared/events.js';
import { decodeCursor, toPage, type Page } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { findMemberRole } from '../tenancy/members.repo.js';
import * as repo from './customers.repo.js';
import { notFound, toCustomer, type WireCustomer } from './wire.js';

function mapUnique<T>(p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (isUniqueViolation(err)) {
      const field = String((err as { constraint?: string }).constraint ?? '').includes('user') ? 'userId' : 'email';
      throw new AppError('duplicate_resource', `Another customer of this tenant has this ${field}`, { field });
    }
    if (isForeignKeyViolation(err)) throw new AppError('not_found', 'No account has this user id', { field: 'userId' });
    throw err;
  });
}

/**
 * Linking a customer record to a user account hands that user the record's reservations
 * (`reservations:own`), so it is a manager action (`customers.link`), only to a member of the
 * tenant, and audited (`customer.linked`). Unlinking is the same action: it takes the
 * reservations away from their user. ASVS 4.0.3 4.2.1.
 */
async function assertLinkable(tx: Queryable, tenantId: string, actor: Actor, userId: string | null): Promise<void> {
  if (!actor.can('customers.link')) {
    throw new AppError('insufficient_permissions', 'Linking a customer record to a user account is a manager action', {
      required: 'customers.link',
      role: actor.role,
    });
  }
  // A non-member and an unknown id answer alike, so the check discloses no account.
  if (userId !== null && !(await findMemberRole(tx, tenantId, userId))) {
    throw new AppError('not_found', 'No member of this tenant has this user id', { field: 'userId' });
  }
}

/** The tenant's customers (the people reservations are for). */
export interface CustomersService {
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<Page<WireCustomer>>;
  get(tenantId: string, id: string): Promise<WireCustomer>;
  /** Email and linked user are unique per tenant (`duplicate_resource` naming the field); linking needs `customers.link`. */
  create(tenantId: string, actor: Actor, input: { name: string; email: string; phone?: string; userId?: string }): Promise<WireCustomer>;
  update(tenantId: string, actor: Actor, id: string, patch: { name?: string; email?: string; phone?: string | null; userId?: string | null }): Promise<WireCustomer>;
}

export function createCustomersService(deps: { db: Database; events: EventHub }): CustomersService {
  const { db, events } = deps;
  const emitLinked = (tenantId: string, actor: Actor, customerId: string, from: string | null, to: string | null) =>
    events.emit('customer.linked', { tenantId, customerId, actorUserId: actor.userId, from, to, meta: actor.meta });
  return {
    list(tenantId: string, query: { cursor?: string; limit: number }) {
      const after = decodeCursor(query.cursor, isUuid);
      return withTenant(db, tenantId, async (tx) => {
        const page = toPage(await repo.listCustomers(tx, tenantId, { after, limit: query.limit + 1 }), query.limit, (c) => c.id);
        return { items: page.items.map(toCustomer), nextCursor: page.nextCursor };
      }, { readOnly: true });
    },

    async get(tenantId: string, id: string) {
      const c = isUuid(id) ? await withTenant(db, tenantId, (tx) => repo.findCustomer(tx, tenantId, id), { readOnly: true }) : null;
      if (!c) throw notFound('Customer');
      return toCustomer(c);
    },

    async create(tenantId: string, actor: Actor, input: { name: string; email: string; phone?: string; userId?: string }) {
      const userId = input.userId ?? null;
      const created = await mapUnique(
        withTenant(db, tenantId, async (tx) => {
          if (userId !== null) await assertLinkable(tx, tenantId, actor, userId);
          return repo.insertCustomer(tx, tenantId, { id: randomUUID(), name: input.name, email: input.email, phone: input.phone ?? null, userId });
        }),
      );
      if (userId !== null) emitLinked(tenantId, actor, created.id, null, userId);
      return toCustomer(created);
    },

    async update(tenantId: string, actor: Actor, id: string, patch: { name?: string; email?: string; phone?: string | null; userId?: string | null }) {
      if (!isUuid(id)) throw notFound('Customer');
      const { before, after } = await mapUnique(
        withTenant(db, tenantId, async (tx) => {
          const current = await repo.findCustomer(tx, tenantId, id);
          if (!current) throw notFound('Customer');
          if (patch.userId !== undefined && patch.userId !== current.userId) await assertLinkable(tx, tenantId, actor, patch.userId);
          return { before: current, after: await repo.updateCustomer(tx, tenantId, { ...current, ...patch }) };
        }),
      );
      if (before.userId !== after.userId) emitLinked(tenantId, actor, id, before.userId, after.userId);
      return toCustomer(after);
    },
  };
}
