import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL } from '@simplewebauthn/server/helpers';
import type { IssuedTokens, SessionService } from '../auth/sessions.service.js';
import { canRemoveSignInMethod } from '../auth/sign-in-methods.core.js';
import { lockSignInMethods } from '../auth/sign-in-methods.repo.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/index.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError } from '../errors/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import {
  CHALLENGE_TTL_MS,
  isAcceptedAttestation,
  isRecentSession,
  judgeCounter,
  MAX_PASSKEYS_PER_USER,
  readClientChallenge,
  REGISTRATION_MAX_SESSION_AGE_MS,
  userHandleOf,
  type ChallengePurpose,
} from './passkeys.core.js';
import * as repo from './passkeys.repo.js';

/** COSE algorithms accepted (§5.8.5): ES256, RS256, EdDSA. */
const ALGORITHMS = [-7, -257, -8];

/** What the list shows of a passkey; the public key and counter stay inside. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  transports: string[];
  backedUp: boolean;
}

/** The second step of an MFA login, provided by src/mfa (wired in app.ts). */
export interface MfaChallengePort {
  findChallengeUser(challengeToken: string): Promise<string | null>;
  verifyChallengeWith(challengeToken: string, method: 'hwk', prove: (userId: string) => Promise<boolean>, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens>;
}

export interface PasskeyServiceOptions {
  db: Database;
  clock: Clock;
  events: EventHub;
  sessions: Pick<SessionService, 'create' | 'describe'>;
  guard: AttemptGuard;
  mfa: MfaChallengePort;
  /** Email and name for the authenticator's account picker. */
  profiles: { findProfile(userId: string): Promise<{ email: string; name: string } | null> };
  webauthn: Config['webauthn'];
}

/**
 * Passkeys (W3C WebAuthn Level 2, ADR 0016): registration, usernameless sign-in, second factor
 * of an MFA login, re-authentication, list and removal. Challenges are issued and kept here,
 * never taken from the client; sessions are ordinary Boka sessions with RFC 8176 `amr`.
 */
export interface PasskeyService {
  /** Creation options for a signed-in user whose session is recent (ASVS 4.0.3 3.7.1). */
  registrationOptions(userId: string, sessionId: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Verifies the authenticator's attestation against an unused challenge of this user and stores the passkey. */
  register(userId: string, input: { name: string; response: RegistrationResponseJSON }, meta: RequestMeta): Promise<PasskeyView>;
  list(userId: string): Promise<PasskeyView[]>;
  /** Removes one of the user's passkeys; refused when it is the last way in and there is no password. */
  remove(userId: string, passkeyId: string, meta: RequestMeta): Promise<void>;
  /** Usernameless request options: no account named, no credential listed, same for everyone. */
  authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Passwordless sign-in with a discoverable credential and user verification → a session (`hwk`, `user`). */
  authenticate(response: AuthenticationResponseJSON, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens>;
  /** Request options for the user a live MFA challenge names (their passkeys listed). */
  secondFactorOptions(challengeToken: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Completes an MFA login with a passkey assertion → a session (`pwd`, `hwk`). */
  completeSecondFactor(challengeToken: string, response: AuthenticationResponseJSON, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens>;
  /** Request options for re-authenticating a signed-in user before a sensitive action. */
  reauthenticationOptions(userId: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Re-authentication (e.g. account deletion): true when `response` is a valid assertion of one
   * of `userId`'s passkeys over an unused challenge from `reauthenticationOptions(userId)`.
   */
  verifyPasskeyAssertion(userId: string, response: AuthenticationResponseJSON, meta: RequestMeta): Promise<boolean>;
}

const hashChallenge = (challenge: string): Buffer => createHash('sha256').update(challenge).digest();
const notVerified = () => new AppError('invalid_credentials', 'The passkey could not be verified');
const challengeRefused = () => new AppError('invalid_token', 'The passkey challenge is unknown, used or expired; ask for new options');
// Registration runs in a signed-in session that is fine: no 401 for a refused authenticator.
const registrationRefused = (reason: 'challenge' | 'attestation') =>
  new AppError('passkey_rejected', reason === 'challenge'
    ? 'The passkey challenge is unknown, used or expired; ask for new registration options'
    : 'The passkey registration could not be verified', { reason });

function toView(p: repo.PasskeyRecord): PasskeyView {
  return {
    id: p.id,
    name: p.name,
    createdAt: p.createdAt.toISOString(),
    lastUsedAt: p.lastUsedAt ? p.lastUsedAt.toISOString() : null,
    transports: p.transports,
    backedUp: p.backedUp,
  };
}

type AssertionResult = { ok: true; passkey: repo.PasskeyRecord } | { ok: false; reason: 'challenge' | 'credential' };

export function createPasskeyService(opts: PasskeyServiceOptions): PasskeyService {
  const { db, webauthn } = opts;
  const origins = [...webauthn.origins];

  /** A fresh 256-bit challenge, stored only as its SHA-256, bound to a purpose (and user). */
  async function issueChallenge(purpose: ChallengePurpose, userId: string | null): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = new Uint8Array(randomBytes(32));
    const now = opts.clock.now();
    await repo.deleteExpiredChallenges(db, new Date(now));
    await repo.insertChallenge(db, {
      id: randomUUID(),
      purpose,
      userId,
      challengeHash: hashChallenge(isoBase64URL.fromBuffer(bytes)),
      createdAt: new Date(now),
      expiresAt: new Date(now + CHALLENGE_TTL_MS),
    });
    return bytes;
  }

  /** Takes the challenge the client signed out of circulation; false when it is not ours to use. */
  async function consume(clientDataJSON: string, purpose: ChallengePurpose, userId: string | null): Promise<string | null> {
    const challenge = readClientChallenge(clientDataJSON);
    if (!challenge) return null;
    return (await repo.consumeChallenge(db, hashChallenge(challenge), purpose, userId, new Date(opts.clock.now()))) ? challenge : null;
  }

  async function requestOptions(purpose: ChallengePurpose, userId: string | null, userVerification: 'required' | 'preferred') {
    const allowCredentials = userId
      ? (await repo.listPasskeys(db, userId)).map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransportFuture[] }))
      : [];
    if (userId && allowCredentials.length === 0) throw new AppError('invalid_state', 'This account has no passkey');
    const challenge = await issueChallenge(purpose, userId);
    return generateAuthenticationOptions({ rpID: webauthn.rpId, challenge, allowCredentials, userVerification, timeout: CHALLENGE_TTL_MS });
  }

  /**
   * One assertion check for every ceremony: the challenge is used up first (a failed attempt
   * burns it), then the credential must exist (and belong to `userId` when one is expected),
   * the signature, origin, RP ID and flags must verify, and the counter must move forward.
   */
  async function checkAssertion(
    response: AuthenticationResponseJSON,
    purpose: ChallengePurpose,
    userId: string | null,
    requireUserVerification: boolean,
    meta: RequestMeta,
  ): Promise<AssertionResult> {
    const challenge = await consume(response.response.clientDataJSON, purpose, userId);
    if (!challenge) return { ok: false, reason: 'challenge' };
    if (response.id !== response.rawId) return { ok: false, reason: 'credential' };
    const passkey = await repo.findByCredentialId(db, response.id);
    if (!passkey || (userId !== null && passkey.userId !== userId)) return { ok: false, reason: 'credential' };
    const handle = response.response.userHandle;
    if (handle !== undefined && handle !== isoBase64URL.fromBuffer(userHandleOf(passkey.userId))) return { ok: false, reason: 'credential' };
    let info: { newCounter: number; credentialBackedUp: boolean };
    try {
      const verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: origins,
        expectedRPID: webauthn.rpId,
        // The stored counter is judged below, after the signature: the library would refuse a
        // regression before checking who signed, and a forged response must not raise the alarm.
        credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: 0, transports: passkey.transports as AuthenticatorTransportFuture[] },
        requireUserVerification,
      });
      if (!verified.verified) return { ok: false, reason: 'credential' };
      info = verified.authenticationInfo;
    } catch {
      return { ok: false, reason: 'credential' };
    }
    const regressed = () => {
      opts.events.emit('passkey.counter_regression', { userId: passkey.userId, passkeyId: passkey.id, stored: passkey.signCount, received: info.newCounter, meta });
      return { ok: false as const, reason: 'credential' as const };
    };
    if (judgeCounter(passkey.signCount, info.newCounter) === 'regressed') return regressed();
    if (!(await repo.recordUse(db, passkey.id, info.newCounter, info.credentialBackedUp, new Date(opts.clock.now())))) return regressed();
    return { ok: true, passkey };
  }

  return {
    async registrationOptions(userId, sessionId) {
      const session = await opts.sessions.describe(sessionId);
      if (!session) throw new AppError('invalid_token');
      if (!isRecentSession(session.createdAt.getTime(), opts.clock.now())) {
        throw new AppError('reauthentication_required', 'Adding a passkey needs a recent sign-in; sign in again and retry', {
          maxSessionAgeSeconds: REGISTRATION_MAX_SESSION_AGE_MS / 1000,
        });
      }
      const [profile, existing] = await Promise.all([opts.profiles.findProfile(userId), repo.listPasskeys(db, userId)]);
      if (!profile) throw new AppError('invalid_token');
      if (existing.length >= MAX_PASSKEYS_PER_USER) {
        throw new AppError('invalid_state', `An account can have at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first`);
      }
      const challenge = await issueChallenge('registration', userId);
      return generateRegistrationOptions({
        rpName: webauthn.rpName,
        rpID: webauthn.rpId,
        userName: profile.email,
        userDisplayName: profile.name,
        userID: userHandleOf(userId),
        challenge,
        timeout: CHALLENGE_TTL_MS,
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransportFuture[] })),
        // Discoverable (usernameless sign-in) and user-verifying (a passkey alone is multi-factor).
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        supportedAlgorithmIDs: ALGORITHMS,
      });
    },

    async register(userId, { name, response }, meta) {
      const challenge = await consume(response.response.clientDataJSON, 'registration', userId);
      if (!challenge) throw registrationRefused('challenge');
      if (response.id !== response.rawId) throw registrationRefused('attestation');
      let accepted: boolean;
      try {
        // Arbitrary CBOR decodes to anything; a non-map throws here and is refused like the rest.
        const attestation = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
        accepted = isAcceptedAttestation(attestation.get('fmt'), attestation.get('attStmt').get('x5c') !== undefined);
      } catch {
        accepted = false;
      }
      if (!accepted) throw registrationRefused('attestation');
      let info;
      try {
        const verified = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origins,
          expectedRPID: webauthn.rpId,
          requireUserVerification: true,
          supportedAlgorithmIDs: ALGORITHMS,
        });
        if (!verified.verified) throw registrationRefused('attestation');
        info = verified.registrationInfo;
      } catch {
        throw registrationRefused('attestation');
      }
      const now = new Date(opts.clock.now());
      const record: Omit<repo.PasskeyRecord, 'lastUsedAt'> = {
        id: randomUUID(),
        userId,
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        signCount: info.credential.counter,
        transports: [...new Set(response.response.transports ?? [])],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name,
        createdAt: now,
      };
      try {
        await db.transaction(async (tx) => {
          if (!(await repo.lockUserPasswordHash(tx, userId))) throw new AppError('invalid_token');
          if ((await repo.countPasskeys(tx, userId)) >= MAX_PASSKEYS_PER_USER) {
            throw new AppError('invalid_state', `An account can have at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first`);
          }
          await repo.insertPasskey(tx, record);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('duplicate_resource', 'This passkey is already registered');
        throw err;
      }
      opts.events.emit('passkey.registered', { userId, passkeyId: record.id, meta });
      return toView({ ...record, lastUsedAt: null });
    },

    async list(userId) {
      return (await repo.listPasskeys(db, userId)).map(toView);
    },

    async remove(userId, passkeyId, meta) {
      await db.transaction(async (tx) => {
        // Password, passkeys and OIDC identities all count (sign-in-methods.core.ts).
        const methods = await lockSignInMethods(tx, userId);
        if (!methods) throw new AppError('invalid_token');
        const mine = await repo.listPasskeys(tx, userId);
        // Someone else's passkey id answers exactly like an unknown one.
        if (!mine.some((p) => p.id === passkeyId)) throw new AppError('not_found', 'Passkey not found');
        if (!canRemoveSignInMethod(methods, 'passkey')) {
          throw new AppError('invalid_state', 'This is your last way to sign in: set a password, add another passkey or link a provider first', {
            reason: 'last_sign_in_method',
          });
        }
        await repo.deletePasskey(tx, userId, passkeyId);
      });
      opts.events.emit('passkey.removed', { userId, passkeyId, meta });
    },

    authenticationOptions() {
      return requestOptions('authentication', null, 'required');
    },

    async authenticate(response, meta) {
      // Failed sign-ins count against the client's address like failed passwords (ASVS 2.2.1).
      const ticket = await opts.guard.begin({ scope: 'login', account: null, meta });
      const result = await checkAssertion(response, 'authentication', null, true, meta);
      if (!result.ok) {
        opts.events.emit('auth.login_failed', { userId: null, reason: 'passkey_failed', meta });
        throw result.reason === 'challenge' ? challengeRefused() : notVerified();
      }
      await ticket.succeeded();
      const { userId } = result.passkey;
      const tokens = await opts.sessions.create(userId, meta, ['hwk', 'user']);
      opts.events.emit('auth.login', { userId, sessionId: tokens.sessionId, meta });
      return { userId, ...tokens };
    },

    async secondFactorOptions(challengeToken) {
      const userId = await opts.mfa.findChallengeUser(challengeToken);
      if (!userId) throw new AppError('invalid_token', 'The MFA challenge is invalid or has expired; sign in again');
      return requestOptions('second_factor', userId, 'preferred');
    },

    completeSecondFactor(challengeToken, response, meta) {
      return opts.mfa.verifyChallengeWith(
        challengeToken,
        'hwk',
        async (userId) => (await checkAssertion(response, 'second_factor', userId, false, meta)).ok,
        meta,
      );
    },

    reauthenticationOptions(userId) {
      return requestOptions('reauthentication', userId, 'required');
    },

    async verifyPasskeyAssertion(userId, response, meta) {
      return (await checkAssertion(response, 'reauthentication', userId, true, meta)).ok;
    },
  };
}
