import { randomUUID } from 'node:crypto';
import { withTenant, type Database } from '../db/index.js';
import { decodeCursor, toPage, type Page } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import * as repo from './services.repo.js';
import type { ServiceRecord } from './services.repo.js';
import { assertCurrency } from './settings.service.js';
import { findSettings } from './settings.repo.js';
import { notFound } from './wire.js';

type Optional = 'bufferMinutes' | 'currency' | 'active' | 'bufferBeforeMinutes' | 'slotIntervalMinutes';
type ServiceInput = Omit<ServiceRecord, 'id' | Optional> & Partial<Pick<ServiceRecord, Optional>>;

/** The services a tenant offers (what can be booked). */
export interface ServicesService {
  /** A page of the tenant's services, optionally only the active ones. */
  list(tenantId: string, query: { cursor?: string; limit: number }, opts?: { activeOnly?: boolean }): Promise<Page<ServiceRecord>>;
  get(tenantId: string, id: string): Promise<ServiceRecord>;
  /** Without a currency, the service takes the tenant's default currency. */
  create(tenantId: string, input: ServiceInput): Promise<ServiceRecord>;
  update(tenantId: string, id: string, patch: Partial<Omit<ServiceRecord, 'id'>>): Promise<ServiceRecord>;
  /** Deletes, or only deactivates when reservations reference the service (history stays intact). */
  remove(tenantId: string, id: string): Promise<{ deactivated: boolean }>;
}

export function createServicesService(deps: { db: Database }): ServicesService {
  const { db } = deps;
  return {
    list(tenantId: string, query: { cursor?: string; limit: number }, opts: { activeOnly?: boolean } = {}) {
      const after = decodeCursor(query.cursor, isUuid);
      return withTenant(db, tenantId, async (tx) =>
        toPage(await repo.listServices(tx, tenantId, { after, limit: query.limit + 1, activeOnly: opts.activeOnly }), query.limit, (s) => s.id),
        { readOnly: true },
      );
    },

    async get(tenantId: string, id: string): Promise<ServiceRecord> {
      const s = isUuid(id) ? await withTenant(db, tenantId, (tx) => repo.findService(tx, tenantId, id), { readOnly: true }) : null;
      if (!s) throw notFound('Service');
      return s;
    },

    async create(tenantId: string, input: ServiceInput): Promise<ServiceRecord> {
      if (input.currency !== undefined) assertCurrency(input.currency);
      return withTenant(db, tenantId, async (tx) => {
        const currency = input.currency ?? (await findSettings(tx, tenantId)).currency;
        return repo.insertService(tx, tenantId, {
          id: randomUUID(),
          name: input.name,
          durationMinutes: input.durationMinutes,
          bufferMinutes: input.bufferMinutes ?? 0,
          priceCents: input.priceCents,
          currency,
          active: input.active ?? true,
          bufferBeforeMinutes: input.bufferBeforeMinutes ?? 0,
          slotIntervalMinutes: input.slotIntervalMinutes ?? null,
        });
      });
    },

    async update(tenantId: string, id: string, patch: Partial<Omit<ServiceRecord, 'id'>>): Promise<ServiceRecord> {
      if (patch.currency !== undefined) assertCurrency(patch.currency);
      if (!isUuid(id)) throw notFound('Service');
      return withTenant(db, tenantId, async (tx) => {
        const current = await repo.findService(tx, tenantId, id);
        if (!current) throw notFound('Service');
        return repo.updateService(tx, tenantId, { ...current, ...patch, id });
      });
    },

    async remove(tenantId: string, id: string): Promise<{ deactivated: boolean }> {
      if (!isUuid(id)) throw notFound('Service');
      return withTenant(db, tenantId, async (tx) => {
        const current = await repo.findService(tx, tenantId, id);
        if (!current) throw notFound('Service');
        if (await repo.hasReservationsForService(tx, tenantId, id)) {
          await repo.updateService(tx, tenantId, { ...current, active: false });
          return { deactivated: true };
        }
        await repo.deleteService(tx, tenantId, id);
        return { deactivated: false };
      });
    },
  };
}
