import { API_KEY_PREFIX, type ApiKeyPrincipal, type Credential, isPermission, type Permission, type Role, TENANT_ROLES, type TenantRole } from '../access/index.js';
import { issueToken } from '../auth/one-time-tokens.js';
import { digestsEqual, generateSecret, hashSecret, splitToken } from '../auth/secrets.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { decodeCursor, toPage } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { createWriteBehind } from '../shared/write-behind.js';
import * as repo from './api-keys.repo.js';
import { GRACE_SECONDS, KEY_RATE_LIMIT_CAP, matchSecret, mayStandBehind, minimalCeiling, planKeyScope, rotationBlockedUntil } from './api-keys.core.js';

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
  /**
   * The global per-principal limit (RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE): a key's own limit may
   * not exceed it; 0 (off) leaves KEY_RATE_LIMIT_CAP as the bound.
   */
  maxRateLimitPerMinute?: number;
}

/** What a caller may ask for when creating a key; the schema has already bounded each field. */
export interface CreateApiKeyInput {
  name: string;
  roleCeiling?: TenantRole;
  permissions?: string[];
  expiresAt?: string;
  rateLimitPerMinute?: number;
}

/** An API key as the API shows it: never the secret, only its display prefix. */
export interface PublicApiKey {
  id: string;
  name: string;
  prefix: string;
  permissions: string[];
  /** Null: a pre-008 key, still bounded by its creator's current role until it is rotated. */
  roleCeiling: string | null;
  rateLimitPerMinute: number | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  rotatedAt: string | null;
  rotatedBy: string | null;
  /** After a rotation: the replaced secret is accepted until this instant (exclusive). */
  previousSecretValidUntil: string | null;
}

/** The answer to create and rotate: the key as listed, plus its secret, shown this once. */
export type IssuedApiKey = PublicApiKey & { key: string };

const iso = (d: Date | null) => d?.toISOString() ?? null;

function toPublicApiKey(k: repo.ApiKeyRecord, lastUsedAt: Date | null = k.lastUsedAt): PublicApiKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    permissions: k.permissions,
    roleCeiling: k.roleCeiling,
    rateLimitPerMinute: k.rateLimitPerMinute,
    createdBy: k.createdBy,
    createdAt: k.createdAt.toISOString(),
    expiresAt: iso(k.expiresAt),
    revokedAt: iso(k.revokedAt),
    lastUsedAt: iso(lastUsedAt),
    rotatedAt: iso(k.rotatedAt),
    rotatedBy: k.rotatedBy,
    previousSecretValidUntil: iso(k.previousValidUntil),
  };
}

const asTenantRole = (role: string | null): TenantRole | null => ((TENANT_ROLES as readonly string[]).includes(role ?? '') ? (role as TenantRole) : null);

/**
 * Tenant API keys, service principals of their tenant (ADR 0017): `boka_sk_<id>.<secret>`, 256
 * random bits, stored as SHA-256 only and compared in constant time. A key acts with its own
 * permissions ∩ its role ceiling, whatever becomes of its creator. Verified keys are cached in
 * process (no database read on a hit); rotation and revocation drop the entry here and, through
 * the cache bus, on every instance. `lastUsedAt` is collected in memory and written in batches,
 * never once per request.
 */
export interface ApiKeyService {
  /**
   * Issues a key whose ceiling is at most the creator's role and whose permissions fit under the
   * ceiling (`planKeyScope`); `key` is shown this once only.
   */
  create(tenantId: string, actor: { userId: string; role: Role }, input: CreateApiKeyInput, meta: RequestMeta): Promise<IssuedApiKey>;
  /**
   * A new secret for the same key (id, name, scope unchanged); the old one stays valid for
   * `graceSeconds` (0: not at all). The rotator must stand behind the key's ceiling. 409 while a
   * previous rotation's grace runs or when a concurrent rotation won.
   */
  rotate(tenantId: string, keyId: string, actor: { userId: string; role: Role }, input: { graceSeconds?: number }, meta: RequestMeta): Promise<IssuedApiKey>;
  /** A page of the tenant's keys; `lastUsedAt` includes uses not yet flushed. */
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<{ items: PublicApiKey[]; nextCursor: string | null }>;
  /** Revokes the key (both secrets at once) here and, through the cache bus, on every instance. */
  revoke(tenantId: string, keyId: string, actorUserId: string, meta: RequestMeta): Promise<void>;
  /** Credential → principal, or `invalid_token`; every outcome is counted through `onVerify`. */
  verify(credential: Credential, meta?: RequestMeta | null): Promise<ApiKeyPrincipal>;
  /** Writes the batched `lastUsedAt` values now. */
  flushLastUsed(): Promise<void>;
  stats(): { pendingLastUsed: number; cacheHits: number; dbReads: number; lastUsedWrites: number };
  /** Stops the flush timer and writes what is pending. */
  close(): Promise<void>;
}

/** A fresh secret for an existing key id: the token keeps naming the same row. */
function issueTokenFor(keyId: string): { token: string; secretHash: Buffer } {
  const secret = generateSecret();
  return { token: `${API_KEY_PREFIX}${keyId}.${secret}`, secretHash: hashSecret(secret) };
}

export function createApiKeyService(opts: ApiKeyServiceOptions): ApiKeyService {
  const cache = createInvalidatedCache<repo.ApiKeyRecord>({
    bus: opts.bus,
    clock: opts.clock,
    max: opts.cacheMax,
    ttlSeconds: opts.cacheTtlSeconds,
    onLookup: opts.onCacheLookup,
  });
  const stats = { cacheHits: 0, dbReads: 0, lastUsedWrites: 0 };
  // Uses recorded in memory, written per tenant in batches (ADR 0030).
  const lastUsed = createWriteBehind<{ tenantId: string; at: Date }>({
    intervalMs: opts.flushIntervalMs ?? 30_000,
    write: writeLastUsed,
    newer: (a, b) => (b.at >= a.at ? b : a),
    onError: (err) => opts.onFlushError?.(err),
  });

  opts.bus.subscribe((m) => {
    if (m.kind === 'api_key') cache.delete(m.keyId);
    // A service principal's standing no longer goes through a membership lookup, so a change to
    // its tenant drops the tenant's cached keys here rather than wait for their TTL.
    if (m.kind === 'tenant') cache.deleteWhere((_id, key) => key.tenantId === m.tenantId);
  });

  async function writeLastUsed(batch: ReadonlyMap<string, { tenantId: string; at: Date }>): Promise<void> {
    const byTenant = new Map<string, Array<{ id: string; at: Date }>>();
    for (const [id, u] of batch) {
      const uses = byTenant.get(u.tenantId);
      if (uses) uses.push({ id, at: u.at });
      else byTenant.set(u.tenantId, [{ id, at: u.at }]);
    }
    for (const [tenantId, uses] of byTenant) {
      await withTenant(opts.db, tenantId, (tx) => repo.touchApiKeys(tx, tenantId, uses));
      stats.lastUsedWrites += 1;
    }
  }

  function deny(key: repo.ApiKeyRecord, reason: 'revoked' | 'expired' | 'invalid_secret', meta: RequestMeta | null): never {
    opts.events.emit('apikey.use_denied', { tenantId: key.tenantId, keyId: key.id, reason, meta });
    throw new AppError('invalid_token', 'The API key is invalid', { reason: `api_key_${reason}` });
  }

  return {
    async create(tenantId: string, actor: { userId: string; role: Role }, input: CreateApiKeyInput, meta: RequestMeta) {
      const plan = planKeyScope(actor.role, { roleCeiling: input.roleCeiling, permissions: input.permissions?.filter(isPermission) });
      if (!plan.ok) throw new AppError(plan.code, plan.message, plan.details);
      const now = opts.clock.now();
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= now) {
        throw new AppError('validation_error', undefined, [{ field: 'expiresAt', in: 'body', message: 'must be in the future' }]);
      }
      const rateLimitPerMinute = input.rateLimitPerMinute ?? null;
      const maxRate = (opts.maxRateLimitPerMinute ?? 0) > 0 ? opts.maxRateLimitPerMinute! : KEY_RATE_LIMIT_CAP;
      if (rateLimitPerMinute !== null && rateLimitPerMinute > maxRate) {
        throw new AppError('validation_error', undefined, [
          { field: 'rateLimitPerMinute', in: 'body', message: `must be at most ${maxRate} (the global per-principal limit)` },
        ]);
      }
      const { id, token, secretHash } = issueToken(API_KEY_PREFIX);
      const record = await withTenant(opts.db, tenantId, (tx) =>
        repo.insertApiKey(tx, tenantId, {
          id,
          name: input.name,
          prefix: `${API_KEY_PREFIX}${id.slice(0, 8)}`,
          secretHash,
          permissions: plan.permissions,
          roleCeiling: plan.ceiling,
          rateLimitPerMinute,
          createdBy: actor.userId,
          createdAt: new Date(now),
          expiresAt,
        }),
      );
      opts.events.emit('apikey.created', {
        tenantId, keyId: id, actorUserId: actor.userId, name: input.name, roleCeiling: plan.ceiling, permissions: plan.permissions, meta,
      });
      return { ...toPublicApiKey(record), key: token };
    },

    async rotate(tenantId: string, keyId: string, actor: { userId: string; role: Role }, input: { graceSeconds?: number }, meta: RequestMeta) {
      const graceSeconds = input.graceSeconds ?? GRACE_SECONDS.default;
      const current = isUuid(keyId) ? await withTenant(opts.db, tenantId, (tx) => repo.findApiKey(tx, tenantId, keyId)) : null;
      if (!current) throw new AppError('not_found', 'API key not found');
      const now = opts.clock.now();
      if (current.revokedAt) throw new AppError('invalid_state', 'A revoked key cannot be rotated', { reason: 'revoked' });
      if (current.expiresAt && current.expiresAt.getTime() <= now) throw new AppError('invalid_state', 'An expired key cannot be rotated', { reason: 'expired' });
      // A pre-008 key is adopted at its first rotation: its ceiling becomes the lowest role that
      // holds its permissions, which the rotator must stand behind like any other ceiling.
      const permissions = current.permissions.filter(isPermission);
      if (current.roleCeiling === null && permissions.some((p) => p.includes(':own.'))) {
        // Adopting it would make a service principal out of a key scoped to its creator's own
        // reservations, which ADR 0017 refuses at creation too.
        throw new AppError('invalid_key_scope', 'This older key holds ":own" permissions and cannot become a service principal; create a new key', {
          reason: 'own_scope',
          permissions: permissions.filter((p) => p.includes(':own.')),
        });
      }
      const ceiling = asTenantRole(current.roleCeiling) ?? minimalCeiling(permissions);
      // Whoever rotates receives the secret, so they must be allowed to create this key (no
      // manager obtaining an owner-level key's secret; ASVS 4.0.3 4.1.3).
      if (ceiling === null || !mayStandBehind(actor.role, ceiling)) {
        throw new AppError('insufficient_permissions', `A ${actor.role} cannot rotate a key whose role ceiling is ${ceiling ?? 'unknown'}`, {
          role: actor.role,
          roleCeiling: ceiling,
        });
      }
      const blocked = rotationBlockedUntil(current, now);
      if (blocked) {
        throw new AppError('conflict', 'The previous rotation is still in its grace period', { previousSecretValidUntil: blocked.toISOString() });
      }
      const { token, secretHash } = issueTokenFor(keyId);
      const rotated = await withTenant(opts.db, tenantId, (tx) =>
        repo.rotateApiKey(tx, tenantId, keyId, {
          expectedSecretHash: current.secretHash,
          secretHash,
          previousValidUntil: new Date(now + graceSeconds * 1000),
          rotatedAt: new Date(now),
          rotatedBy: actor.userId,
          roleCeiling: ceiling,
        }),
      );
      if (!rotated) throw new AppError('conflict', 'The key was rotated or revoked concurrently; reload it', { reason: 'concurrent_change' });
      cache.delete(keyId);
      await opts.bus.publish({ kind: 'api_key', keyId });
      opts.events.emit('apikey.rotated', { tenantId, keyId, actorUserId: actor.userId, graceSeconds, roleCeiling: ceiling, meta });
      return { ...toPublicApiKey(rotated, lastUsed.get(keyId)?.at ?? rotated.lastUsedAt), key: token };
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

    flushLastUsed: () => lastUsed.flush(),
    stats: () => ({ ...stats, pendingLastUsed: lastUsed.size }),
    close: () => lastUsed.close(),
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
    const now = opts.clock.now();
    // The replaced secret of a rotation is accepted until its grace ends, computed here on every
    // request (no timer, no invalidation needed when the grace runs out).
    if (matchSecret(key, hashSecret(parts.secret), now, digestsEqual) === 'none') deny(key, 'invalid_secret', meta);
    if (key.revokedAt) deny(key, 'revoked', meta);
    if (key.expiresAt && key.expiresAt.getTime() <= now) deny(key, 'expired', meta);
    lastUsed.set(key.id, { tenantId: key.tenantId, at: new Date(now) });
    return {
      kind: 'api_key',
      keyId: key.id,
      tenantId: key.tenantId,
      permissions: new Set(key.permissions.filter(isPermission)) as ReadonlySet<Permission>,
      ceiling: asTenantRole(key.roleCeiling),
      rateLimitPerMinute: key.rateLimitPerMinute,
      creatorUserId: key.createdBy,
    };
  }
}
