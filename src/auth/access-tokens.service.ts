import { randomUUID, type webcrypto } from 'node:crypto';
import { errors as joseErrors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import { decryptAtRest, encryptAtRest } from './secrets.js';
import { insertSigningKey, listVerifiableKeys, retireKeysExcept } from './signing-keys.repo.js';

/** ES256 (RFC 7518 §3.4). The algorithm is pinned at verification; `alg` from the header is never trusted. */
const ACCESS_TOKEN_ALG = 'ES256';

export interface AccessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly exp: number;
  readonly iat: number;
}

export type VerifyResult =
  | { readonly ok: true; readonly claims: AccessClaims }
  | { readonly ok: false; readonly code: 'invalid_token' | 'token_expired' };

type CryptoKey = webcrypto.CryptoKey;

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  verifyKey: CryptoKey;
  signKey: CryptoKey;
}

export interface AccessTokenService {
  /** A signed access token for the session, with the current key. */
  sign(input: { userId: string; sessionId: string }): Promise<{ token: string; expiresIn: number }>;
  /** Signature, algorithm, issuer, audience and expiry; the session's liveness is checked elsewhere. */
  verify(token: string): Promise<VerifyResult>;
  /** The public keys this instance verifies with, as a JWK Set (RFC 7517 §5). */
  jwks(): { keys: JWK[] };
  /** Generates a new signing key; older keys keep verifying until their tokens expire. */
  rotate(): Promise<string>;
  /** Re-reads keys from the database (after another instance rotated). */
  reload(): Promise<void>;
}

export interface AccessTokenOptions {
  db: Database;
  encryptionKey: Buffer;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

/**
 * Signs access tokens (RFC 7519) and verifies them locally against keys kept in the database.
 * Verified tokens are cached until their `exp`, so a repeat request costs a map lookup, not an
 * ECDSA verification; the session-liveness check happens separately on every request.
 */
export async function createAccessTokenService(opts: AccessTokenOptions): Promise<AccessTokenService> {
  let keys: LoadedKey[] = [];
  let lastReloadAt = 0;
  const verified = new LRUCache<string, AccessClaims>({ max: 100_000, ttlAutopurge: false });

  async function load(): Promise<void> {
    const rows = await listVerifiableKeys(opts.db, opts.ttlSeconds + 60);
    keys = await Promise.all(
      rows.map(async (row) => {
        const privateJwk = JSON.parse(decryptAtRest(row.private_jwk_enc, opts.encryptionKey)) as JWK;
        return {
          kid: row.kid,
          publicJwk: row.public_jwk as JWK,
          verifyKey: (await importJWK(row.public_jwk as JWK, ACCESS_TOKEN_ALG)) as CryptoKey,
          signKey: (await importJWK(privateJwk, ACCESS_TOKEN_ALG)) as CryptoKey,
        };
      }),
    );
    lastReloadAt = opts.clock.now();
  }

  async function createKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ACCESS_TOKEN_ALG, use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    await insertSigningKey(opts.db, {
      kid,
      alg: ACCESS_TOKEN_ALG,
      publicJwk,
      privateJwkEnc: encryptAtRest(JSON.stringify(privateJwk), opts.encryptionKey),
    });
    return kid;
  }

  await load();
  if (keys.length === 0) {
    await createKey();
    await load();
  }

  function findKey(kid: string): LoadedKey | undefined {
    return keys.find((k) => k.kid === kid);
  }

  return {
    async sign({ userId, sessionId }) {
      const current = keys[0];
      if (!current) throw new Error('no signing key loaded');
      const nowSeconds = Math.floor(opts.clock.now() / 1000);
      const token = await new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: current.kid, typ: 'JWT' })
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setSubject(userId)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + opts.ttlSeconds)
        .sign(current.signKey);
      return { token, expiresIn: opts.ttlSeconds };
    },

    async verify(token) {
      const nowSeconds = Math.floor(opts.clock.now() / 1000);
      const cached = verified.get(token);
      if (cached) {
        if (cached.exp <= nowSeconds) return { ok: false, code: 'token_expired' };
        return { ok: true, claims: cached };
      }
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            const kid = header.kid ?? '';
            let key = findKey(kid);
            // Unknown kid: another instance may have rotated. Reload at most every 10 s so a
            // flood of forged kids cannot turn into a flood of database reads.
            if (!key && opts.clock.now() - lastReloadAt > 10_000) {
              await load();
              key = findKey(kid);
            }
            if (!key) throw new joseErrors.JWKSNoMatchingKey();
            return key.verifyKey;
          },
          {
            algorithms: [ACCESS_TOKEN_ALG],
            issuer: opts.issuer,
            audience: opts.audience,
            requiredClaims: ['sub', 'sid', 'exp', 'iat'],
            currentDate: new Date(opts.clock.now()),
            clockTolerance: 0,
          },
        );
        if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
          return { ok: false, code: 'invalid_token' };
        }
        if (typeof payload.iat === 'number' && payload.iat > nowSeconds + 5) {
          return { ok: false, code: 'invalid_token' }; // issued in the future
        }
        const claims: AccessClaims = { sub: payload.sub, sid: payload.sid, exp: payload.exp!, iat: payload.iat! };
        verified.set(token, claims, { ttl: Math.max(1, claims.exp * 1000 - opts.clock.now()) });
        return { ok: true, claims };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) return { ok: false, code: 'token_expired' };
        return { ok: false, code: 'invalid_token' };
      }
    },

    jwks() {
      return { keys: keys.map((k) => k.publicJwk) };
    },

    async rotate() {
      const kid = await createKey();
      await retireKeysExcept(opts.db, kid);
      await load();
      verified.clear();
      return kid;
    },

    reload: load,
  };
}
