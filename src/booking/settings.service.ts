import type { CacheBus } from '../cache/invalidation-bus.js';
import { withTenant, type Database } from '../db/index.js';
import { isCanonicalOrigin } from '../shared/origins.js';
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

/**
 * The allow-list as stored: canonical origins only (RFC 6454 §6.2, no wildcard), each once.
 * A second spelling is refused rather than normalised (ADR 0009), so the CORS check compares
 * the browser's `Origin` byte for byte.
 */
function assertOrigins(origins: readonly string[]): void {
  const issues = origins.flatMap((o, i) =>
    isCanonicalOrigin(o) ? [] : [{ field: `allowedOrigins.${i}`, message: 'must be a canonical origin scheme://host[:port] (lower case, no path, no default port, no wildcard)' }],
  );
  if (new Set(origins).size !== origins.length) issues.push({ field: 'allowedOrigins', message: 'must not repeat an origin' });
  if (issues.length > 0) throw new AppError('validation_error', 'The request is invalid', issues);
}

/** A tenant's booking settings: time zone, currency, lead time, cancellation cut-off and allowed widget origins. */
export interface SettingsService {
  /** The tenant's settings, defaults filled in. */
  get(tenantId: string): Promise<TenantSettings>;
  /** Merges the patch after checking the time zone (IANA) and currency (ISO 4217). */
  update(tenantId: string, patch: Partial<TenantSettings>): Promise<TenantSettings>;
}

export function createSettingsService(deps: { db: Database; bus: CacheBus }): SettingsService {
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
      if (patch.allowedOrigins !== undefined) assertOrigins(patch.allowedOrigins);
      const saved = await withTenant(db, tenantId, async (tx) => {
        const current = await settingsRepo.findSettings(tx, tenantId);
        return settingsRepo.upsertSettings(tx, tenantId, { ...current, ...patch });
      });
      // Every instance's CORS origin cache (public-origins.service.ts) drops this tenant.
      if (patch.allowedOrigins !== undefined) await deps.bus.publish({ kind: 'tenant', tenantId });
      return saved;
    },
  };
}
