import { API_KEY_PREFIX, type ApiKeyPrincipal, type Credential, hasPermission, isPermission, type Permission, type Role } from '../access/index.js';
import { issueToken } from '../auth/one-time-tokens.js';
import { digestsEqual, hashSecret, splitToken } from '../auth/secrets.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { decodeCursor, toPage } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import * as repo from './api-keys.repo.js';

export interface ApiKeyServiceOptions {
  db: Database;
  bus: CacheBus;
  clock: Clock;
  events: EventHub;
  cacheTtlSeconds: number;
  cacheMax: number;
  /** How often batched `lastUsedAt` values are written. */
  flushIntervalMs?: number;
  onFlushError?: (err: unknown) => void;
  onCacheLookup?: (result: 'hit' | 'miss') => void;
  /** Every verification outcome (metrics: boka_api_key_requests_total{result}). */
  onVerify?: (result: 'ok' | 'rejected') => void;
}

/** An API key as the API shows it: never the secret, only its display prefix. */
export interface PublicApiKey {
  id: string;
  name: string;
  prefix: string;
  permissions: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function toPublicApiKey(k: repo.ApiKeyRecord, lastUsedAt: Date | null = k.lastUsedAt): PublicApiKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    permissions: k.permissions,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    lastUsedAt: lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * Tenant API keys: `boka_sk_<id>.<secret>`, 256 random bits, stored as SHA-256 only and compared
 * in constant time. Verified keys are cached in process (no database read on a hit); revocation
 * drops the entry here and, through the cache bus, on every instance. `lastUsedAt` is collected
 * in memory and written in batches, never once per request.
 */
export interface ApiKeyService {
  /** Issues a key holding at most its creator's permissions; `key` is shown this once only. */
  create(
    tenantId: string,
    actor: { userId: string; role: Role },
    input: { name: string; permissions: string[]; expiresAt?: string },
    meta: RequestMeta,
  ): Promise<Omit<PublicApiKey, 'revokedAt' | 'lastUsedAt'> & { key: string }>;
  /** A page of the tenant's keys; `lastUsedAt` includes uses not yet flushed. */
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<{ items: PublicApiKey[]; nextCursor: string | null }>;
  /** Revokes the key here and, through the cache bus, on every instance. */
  revoke(tenantId: string, keyId: string, actorUserId: string, meta: RequestMeta): Promise<void>;
  /** Credential → principal, or `invalid_token`; every outcome is counted through `onVerify`. */
  verify(credential: Credential, meta?: RequestMeta | null): Promise<ApiKeyPrincipal>;
  /** Writes the batched `lastUsedAt` values now. */
  flushLastUsed(): Promise<void>;
  stats(): { pendingLastUsed: number; cacheHits: number; dbReads: number; lastUsedWrites: number };
  /** Stops the flush timer and writes what is pending. */
  close(): Promise<void>;
}

export function createApiKeyService(opts: ApiKeyServiceOptions): ApiKeyService {
  const cache = createInvalidatedCache<repo.ApiKeyRecord>({
    bus: opts.bus,
    clock: opts.clock,
    max: opts.cacheMax,
    ttlSeconds: opts.cacheTtlSeconds,
    onLookup: opts.onCacheLookup,
  });
  const lastUsed = new Map<string, { tenantId: string; at: Date }>();
  const stats = { cacheHits: 0, dbReads: 0, lastUsedWrites: 0 };

  opts.bus.subscribe((m) => {
    if (m.kind === 'api_key') cache.delete(m.keyId);
  });

  async function flushLastUsed(): Promise<void> {
    if (lastUsed.size === 0) return;
    const byTenant = new Map<string, Array<{ id: string; at: Date }>>();
    for (const [id, u] of lastUsed) byTenant.set(u.tenantId, [...(byTenant.get(u.tenantId) ?? []), { id, at: u.at }]);
    lastUsed.clear();
    for (const [tenantId, uses] of byTenant) {
      await withTenant(opts.db, tenantId, (tx) => repo.touchApiKeys(tx, tenantId, uses));
      stats.lastUsedWrites += 1;
    }
  }

  const timer = setInterval(() => {
    flushLastUsed().catch((err: unknown) => opts.onFlushError?.(err));
  }, opts.flushIntervalMs ?? 30_000);
  timer.unref();

  function deny(key: repo.ApiKeyRecord, reason: 'revoked' | 'expired' | 'invalid_secret', meta: RequestMeta | null): never {
    opts.events.emit('apikey.use_denied', { tenantId: key.tenantId, keyId: key.id, reason, meta });
    throw new AppError('invalid_token', 'The API key is invalid', { reason: `api_key_${reason}` });
  }

  return {
    async create(
      tenantId: string,
      actor: { userId: string; role: Role },
      input: { name: string; permissions: string[]; expiresAt?: string },
      meta: RequestMeta,
    ) {
      const permissions = [...new Set(input.permissions)];
      // A key can never hold more than its creator (ASVS 4.1.3, least privilege).
      const beyond = permissions.filter((p) => !isPermission(p) || !hasPermission(actor.role, p));
      if (beyond.length > 0) {
        throw new AppError('insufficient_permissions', 'A key cannot hold permissions its creator lacks', { required: beyond[0], role: actor.role });
      }
      const now = opts.clock.now();
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= now) {
        throw new AppError('validation_error', undefined, [{ field: 'expiresAt', in: 'body', message: 'must be in the future' }]);
      }
      const { id, token, secretHash } = issueToken(API_KEY_PREFIX);
      const record = await withTenant(opts.db, tenantId, (tx) =>
        repo.insertApiKey(tx, tenantId, {
          id,
          name: input.name,
          prefix: `${API_KEY_PREFIX}${id.slice(0, 8)}`,
          secretHash,
          permissions,
          createdBy: actor.userId,
          createdAt: new Date(now),
          expiresAt,
        }),
      );
      opts.events.emit('apikey.created', { tenantId, keyId: id, actorUserId: actor.userId, permissions, meta });
      const { revokedAt: _revoked, lastUsedAt: _last, ...shown } = toPublicApiKey(record);
      return { ...shown, key: token };
    },

    async list(tenantId: string, query: { cursor?: string; limit: number }) {
      const before = decodeCursor(query.cursor, isUuid);
      const rows = await withTenant(opts.db, tenantId, (tx) => repo.listApiKeys(tx, tenantId, { before, limit: query.limit + 1 }));
      const page = toPage(rows, query.limit, (k) => k.id);
      // Uses not yet flushed are newer than the stored value.
      return { items: page.items.map((k) => toPublicApiKey(k, lastUsed.get(k.id)?.at ?? k.lastUsedAt)), nextCursor: page.nextCursor };
    },

    async revoke(tenantId: string, keyId: string, actorUserId: string, meta: RequestMeta): Promise<void> {
      const done = isUuid(keyId) && (await withTenant(opts.db, tenantId, (tx) => repo.revokeApiKey(tx, tenantId, keyId, new Date(opts.clock.now()))));
      if (!done) throw new AppError('not_found', 'API key not found');
      cache.delete(keyId);
      lastUsed.delete(keyId);
      await opts.bus.publish({ kind: 'api_key', keyId });
      opts.events.emit('apikey.revoked', { tenantId, keyId, actorUserId, meta });
    },

    async verify(credential: Credential, meta: RequestMeta | null = null): Promise<ApiKeyPrincipal> {
      try {
        const principal = await verifyKey(credential, meta);
        opts.onVerify?.('ok');
        return principal;
      } catch (err) {
        opts.onVerify?.('rejected');
        throw err;
      }
    },

    flushLastUsed,
    stats: () => ({ ...stats, pendingLastUsed: lastUsed.size }),

    async close(): Promise<void> {
      clearInterval(timer);
      await flushLastUsed();
    },
  };

  /** Credential → principal. Cache hit: one SHA-256 and no database read. */
  async function verifyKey(credential: Credential, meta: RequestMeta | null): Promise<ApiKeyPrincipal> {
    if (credential.kind !== 'api_key') throw new AppError('invalid_token');
    const parts = splitToken(credential.key, API_KEY_PREFIX);
    if (!parts) throw new AppError('invalid_token', 'The API key is invalid');
    let read = false;
    const key = await cache.getOrLoad(parts.id, async () => {
      read = true;
      stats.dbReads += 1;
      return (await repo.findApiKeyForAuth(opts.db, parts.id)) ?? undefined;
    });
    if (!read) stats.cacheHits += 1;
    if (!key) throw new AppError('invalid_token', 'The API key is invalid');
    if (!digestsEqual(key.secretHash, hashSecret(parts.secret))) deny(key, 'invalid_secret', meta);
    if (key.revokedAt) deny(key, 'revoked', meta);
    const now = opts.clock.now();
    if (key.expiresAt && key.expiresAt.getTime() <= now) deny(key, 'expired', meta);
    lastUsed.set(key.id, { tenantId: key.tenantId, at: new Date(now) });
    return {
      kind: 'api_key',
      keyId: key.id,
      tenantId: key.tenantId,
      permissions: new Set(key.permissions.filter(isPermission)) as ReadonlySet<Permission>,
      creatorUserId: key.createdBy,
    };
  }
}
