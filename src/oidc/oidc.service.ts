import { randomBytes, randomUUID } from 'node:crypto';
import { findByToken, issueToken } from '../auth/one-time-tokens.js';
import { hashPassword } from '../auth/password.js';
import { decryptAtRest, digestsEqual, encryptAtRest, generateSecret, hashSecret } from '../auth/secrets.js';
import type { IssuedTokens, SessionService } from '../auth/sessions.service.js';
import { canRemoveSignInMethod } from '../auth/sign-in-methods.core.js';
import { lockSignInMethods } from '../auth/sign-in-methods.repo.js';
import { findUserByEmail, normalizeEmail } from '../auth/users.repo.js';
import type { OidcConfig, OidcProviderConfig } from '../config/config.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { decideSignIn, readClaims } from './oidc.core.js';
import { createAuthorizationSecrets, type OidcClient } from './oidc-client.js';
import * as repo from './oidc.repo.js';

const STATE_PREFIX = 'os_';
const LOGIN_CODE_PREFIX = 'olc_';
/** Time to sign in at the provider (including its own MFA). */
export const FLOW_TTL_MS = 10 * 60_000;
/** The app exchanges the code right after the redirect; nothing needs longer. */
const LOGIN_CODE_TTL_MS = 60_000;

export interface IdentityView {
  id: string;
  provider: string;
  email: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

/**
 * Sign in with OpenID Connect (issue #18, ADR 0015): authorization code + PKCE through the port
 * `OidcClient`; state, nonce and verifier kept server-side; a verified identity becomes an
 * ordinary Boka session (amr `fed`) through a one-time login code, never tokens in a URL.
 */
export interface OidcService {
  /** Configured providers, for a sign-in page. */
  listProviders(): Array<{ id: string; name: string }>;
  /**
   * Stores a flow and returns the provider's authorization URL plus the browser-binding secret
   * the route puts in an HttpOnly cookie (RFC 6749 §10.12: the state is bound to the user agent).
   */
  start(providerId: string, meta: RequestMeta): Promise<{ location: string; binding: string; provider: OidcProviderConfig }>;
  /** Checks state + binding (single use), exchanges the code, signs in / links / creates; returns the app URL with a login code. */
  callback(providerId: string, query: Readonly<Record<string, string>>, binding: string | undefined, meta: RequestMeta): Promise<{ location: string }>;
  /** Login code → session; with MFA on, `mfa_required` carrying a challenge (the existing flow). */
  exchange(code: string, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens>;
  listIdentities(userId: string): Promise<IdentityView[]>;
  /** Refused (`invalid_state`) if the account would keep no way to sign in. */
  unlink(userId: string, identityId: string, meta: RequestMeta): Promise<void>;
  /** Where the provider sends the browser back: `<base>/api/auth/oidc/<id>/callback`. */
  redirectUri(provider: OidcProviderConfig): string;
  /** The path of that URI (the binding cookie's path); null for an unknown provider. */
  callbackPath(providerId: string): string | null;
}

export function createOidcService(opts: {
  db: Database;
  clock: Clock;
  events: EventHub;
  sessions: SessionService;
  mfa: { isEnabled(userId: string): Promise<boolean>; createChallenge(userId: string, firstFactor: 'fed'): Promise<string> };
  client: OidcClient;
  config: OidcConfig;
  /** Encrypts the nonce and PKCE verifier at rest. */
  encryptionKey: Buffer;
}): OidcService {
  const { db, config } = opts;
  const byId = new Map(config.providers.map((p) => [p.id, p]));

  function provider(id: string): OidcProviderConfig {
    const found = byId.get(id);
    if (!found) throw new AppError('not_found', 'No such sign-in provider');
    return found;
  }

  function redirectUri(p: OidcProviderConfig): string {
    return `${config.redirectBaseUrl ?? ''}/api/auth/oidc/${p.id}/callback`;
  }

  function refuse(p: OidcProviderConfig, reason: string, meta: RequestMeta, userId: string | null = null): void {
    opts.events.emit('auth.login_failed', { userId, reason: 'oidc_failed', meta });
    opts.events.emit('oidc.refused', { userId, providerId: p.id, reason, meta });
  }

  return {
    redirectUri,

    callbackPath(providerId) {
      const p = byId.get(providerId);
      return p ? new URL(redirectUri(p)).pathname : null;
    },

    listProviders: () => config.providers.map((p) => ({ id: p.id, name: p.name })),

    async start(providerId, _meta) {
      const p = provider(providerId);
      const { nonce, verifier, codeChallenge } = await createAuthorizationSecrets();
      const { id, token: state, secretHash } = issueToken(STATE_PREFIX);
      const location = await opts.client.authorizationUrl(p, { redirectUri: redirectUri(p), state, nonce, codeChallenge });
      const binding = generateSecret();
      const now = opts.clock.now();
      await repo.pruneFlows(db, new Date(now));
      await repo.insertFlow(db, {
        id, providerId: p.id, stateHash: secretHash, bindingHash: hashSecret(binding),
        secretsEnc: encryptAtRest(JSON.stringify({ nonce, verifier }), opts.encryptionKey),
        createdAt: new Date(now), expiresAt: new Date(now + FLOW_TTL_MS),
      });
      return { location: location.href, binding, provider: p };
    },

    async callback(providerId, query, binding, meta) {
      const p = provider(providerId);
      const stateFailure = () => {
        refuse(p, 'state', meta);
        return new AppError('oidc_login_failed', undefined, { reason: 'state' });
      };
      const state = query.state ?? '';
      const flow = await findByToken(state, STATE_PREFIX, (id) => repo.findFlow(db, id), (f) => f.stateHash);
      const now = opts.clock.now();
      if (!flow || flow.providerId !== p.id || flow.usedAt || flow.expiresAt.getTime() <= now) throw stateFailure();
      if (!binding || !digestsEqual(flow.bindingHash, hashSecret(binding))) throw stateFailure();
      // Spent before the exchange: a replayed callback never reaches the provider again.
      if (!(await repo.useFlow(db, flow.id, new Date(now)))) throw stateFailure();
      const { nonce, verifier } = JSON.parse(decryptAtRest(flow.secretsEnc, opts.encryptionKey)) as { nonce: string; verifier: string };

      const callbackUrl = new URL(redirectUri(p));
      for (const [key, value] of Object.entries(query)) callbackUrl.searchParams.set(key, value);
      let result: { subject: string; claims: Record<string, unknown> };
      try {
        result = await opts.client.exchange(p, callbackUrl, { state, nonce, verifier });
      } catch (err) {
        if (err instanceof AppError && err.code === 'oidc_login_failed') refuse(p, String((err.details as { reason?: string } | undefined)?.reason ?? 'exchange'), meta);
        throw err;
      }
      if (result.subject.length < 1 || result.subject.length > 255) {
        refuse(p, 'exchange', meta);
        throw new AppError('oidc_login_failed', undefined, { reason: 'exchange' });
      }
      const claims = readClaims(result.subject, result.claims);

      // Only a first sign-in may create an account; its placeholder is hashed before the
      // transaction (argon2 is slow and needs no lock), a returning identity skips it.
      const newPlaceholder = () => hashPassword(randomBytes(32).toString('base64url'));
      const placeholderHash = (await repo.findIdentity(db, p.id, claims.subject)) ? null : await newPlaceholder();
      const { id: codeId, token: loginCode, secretHash: codeHash } = issueToken(LOGIN_CODE_PREFIX);
      const at = new Date(now);
      const outcome = await db.transaction(async (tx) => {
        const identity = await repo.findIdentity(tx, p.id, claims.subject);
        const user = claims.email ? await findUserByEmail(tx, claims.email) : null;
        const decision = decideSignIn({
          identity,
          claims,
          userByEmail: user ? { id: user.id, emailVerified: user.emailVerifiedAt !== null } : null,
          allowSignup: p.allowSignup,
        });
        if (decision.kind === 'refuse') return decision;
        let userId: string;
        let linked: { identityId: string; created: boolean } | null = null;
        if (decision.kind === 'sign_in') {
          userId = decision.userId;
          await repo.touchIdentity(tx, identity!.id, at);
        } else {
          userId = decision.kind === 'link' ? decision.userId : randomUUID();
          if (decision.kind === 'create') {
            const email = claims.email!;
            const passwordHash = placeholderHash ?? (await newPlaceholder()); // the identity vanished meanwhile
            await repo.insertVerifiedUser(tx, {
              id: userId, email, emailNormalized: normalizeEmail(email), name: claims.name ?? email.split('@')[0]!, passwordHash, at,
            });
            await repo.insertPlaceholderPassword(tx, userId, passwordHash);
          }
          const identityId = randomUUID();
          await repo.insertIdentity(tx, { id: identityId, userId, providerId: p.id, subject: claims.subject, email: claims.email, at });
          linked = { identityId, created: decision.kind === 'create' };
        }
        await repo.insertLoginCode(tx, { id: codeId, userId, providerId: p.id, secretHash: codeHash, createdAt: at, expiresAt: new Date(now + LOGIN_CODE_TTL_MS) });
        return { kind: 'ok' as const, userId, linked };
      });
      if (outcome.kind === 'refuse') {
        refuse(p, outcome.reason, meta);
        const message = outcome.code === 'duplicate_resource'
          ? 'An account with this email exists, but its address is not verified; sign in with the password and verify it first'
          : undefined;
        throw new AppError(outcome.code, message);
      }
      if (outcome.linked) {
        opts.events.emit('oidc.linked', { userId: outcome.userId, providerId: p.id, identityId: outcome.linked.identityId, created: outcome.linked.created, meta });
      }
      // In the fragment: it never reaches a server log or a Referer header.
      return { location: `${config.appUrl ?? ''}#login_code=${encodeURIComponent(loginCode)}` };
    },

    async exchange(code, meta) {
      const record = await findByToken(code, LOGIN_CODE_PREFIX, (id) => repo.findLoginCode(db, id), (c) => c.secretHash);
      const now = opts.clock.now();
      const invalid = () => new AppError('invalid_token', 'The login code is invalid, expired or already used; sign in again');
      if (!record || record.usedAt || record.expiresAt.getTime() <= now) throw invalid();
      if (!(await repo.useLoginCode(db, record.id, new Date(now)))) throw invalid();
      if (await opts.mfa.isEnabled(record.userId)) {
        const challengeToken = await opts.mfa.createChallenge(record.userId, 'fed');
        throw new AppError('mfa_required', undefined, { challengeToken });
      }
      const tokens = await opts.sessions.create(record.userId, meta, ['fed']);
      opts.events.emit('auth.login', { userId: record.userId, sessionId: tokens.sessionId, meta });
      return { userId: record.userId, ...tokens };
    },

    async listIdentities(userId) {
      const rows = await repo.listIdentities(db, userId);
      return rows.map((r) => ({ id: r.id, provider: r.providerId, email: r.email, createdAt: r.createdAt, lastLoginAt: r.lastLoginAt }));
    },

    async unlink(userId, identityId, meta) {
      const removed = await db.transaction(async (tx) => {
        // Password, passkeys and OIDC identities all count (sign-in-methods.core.ts).
        const methods = await lockSignInMethods(tx, userId);
        const identities = await repo.listIdentities(tx, userId);
        const target = identities.find((i) => i.id === identityId);
        if (!methods || !target) return null;
        if (!canRemoveSignInMethod(methods, 'identity')) return 'last';
        await repo.deleteIdentity(tx, userId, identityId);
        return target;
      });
      if (removed === null) throw new AppError('not_found', 'Identity not found');
      if (removed === 'last') {
        throw new AppError('invalid_state', 'This is the only way to sign in to the account; set a password (password reset), add a passkey or link another provider first', {
          reason: 'last_sign_in_method',
        });
      }
      opts.events.emit('oidc.unlinked', { userId, providerId: removed.providerId, identityId, meta });
    },
  };
}
