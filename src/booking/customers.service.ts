import { randomUUID } from 'node:crypto';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { decodeCursor, toPage, type Page } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
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

/** The tenant's customers (the people reservations are for). */
export interface CustomersService {
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<Page<WireCustomer>>;
  get(tenantId: string, id: string): Promise<WireCustomer>;
  /** Email and linked user are unique per tenant (`duplicate_resource` naming the field). */
  create(tenantId: string, input: { name: string; email: string; phone?: string; userId?: string }): Promise<WireCustomer>;
  update(tenantId: string, id: string, patch: { name?: string; email?: string; phone?: string | null; userId?: string | null }): Promise<WireCustomer>;
}

export function createCustomersService(deps: { db: Database }): CustomersService {
  const { db } = deps;
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

    create(tenantId: string, input: { name: string; email: string; phone?: string; userId?: string }) {
      return mapUnique(
        withTenant(db, tenantId, async (tx) =>
          toCustomer(
            await repo.insertCustomer(tx, tenantId, {
              id: randomUUID(),
              name: input.name,
              email: input.email,
              phone: input.phone ?? null,
              userId: input.userId ?? null,
            }),
          ),
        ),
      );
    },

    update(tenantId: string, id: string, patch: { name?: string; email?: string; phone?: string | null; userId?: string | null }) {
      if (!isUuid(id)) return Promise.reject(notFound('Customer'));
      return mapUnique(
        withTenant(db, tenantId, async (tx) => {
          const current = await repo.findCustomer(tx, tenantId, id);
          if (!current) throw notFound('Customer');
          return toCustomer(await repo.updateCustomer(tx, tenantId, { ...current, ...patch }));
        }),
      );
    },
  };
}
