import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import * as settingsRepo from './settings.repo.js';
import type { TenantSettings } from './settings.repo.js';
import { isValidTimeZone } from './timezone.core.js';

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** ISO 4217 codes the runtime knows; "XXX"-style nonsense is refused. */
export function assertCurrency(currency: string, field = 'currency'): void {
  if (!KNOWN_CURRENCIES.has(currency)) {
    throw new AppError('validation_error', 'The request is invalid', [{ field, message: 'is not an ISO 4217 currency code' }]);
  }
}

/** A tenant's booking settings: time zone, currency, lead time and cancellation cut-off. */
export interface SettingsService {
  /** The tenant's settings, defaults filled in. */
  get(tenantId: string): Promise<TenantSettings>;
  /** Merges the patch after checking the time zone (IANA) and currency (ISO 4217). */
  update(tenantId: string, patch: Partial<TenantSettings>): Promise<TenantSettings>;
}

export function createSettingsService(deps: { db: Database }): SettingsService {
  const { db } = deps;
  return {
    get(tenantId: string): Promise<TenantSettings> {
      return withTenant(db, tenantId, (tx) => settingsRepo.findSettings(tx, tenantId), { readOnly: true });
    },

    async update(tenantId: string, patch: Partial<TenantSettings>): Promise<TenantSettings> {
      if (patch.timezone !== undefined && !isValidTimeZone(patch.timezone)) {
        throw new AppError('validation_error', 'The request is invalid', [{ field: 'timezone', message: 'is not an IANA time zone' }]);
      }
      if (patch.currency !== undefined) assertCurrency(patch.currency);
      return withTenant(db, tenantId, async (tx) => {
        const current = await settingsRepo.findSettings(tx, tenantId);
        return settingsRepo.upsertSettings(tx, tenantId, { ...current, ...patch });
      });
    },
  };
}
