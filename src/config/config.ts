import { readFileSync } from 'node:fs';
import { generateSecretKey, type SecretKeyOrigin } from './secret-key.js';
import { isCanonicalOrigin } from '../shared/origins.js';
import { readOidcConfig, type OidcConfig } from './oidc-providers.js';

export type { SecretKeyOrigin } from './secret-key.js';
export type { OidcConfig, OidcProviderConfig } from './oidc-providers.js';

/** Validated, frozen runtime configuration. Every field is documented in the README table. */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly version: string;
  /** `memory`, a directory for the embedded PGlite database, or ignored when databaseUrl is set. */
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /** Directory of migration files (`NNN.do.name.sql`); undefined = the ones shipped with the build. */
  readonly migrationsDir?: string | undefined;
  readonly databasePoolMax: number;
  /**
   * How long a request waits for a pooled server connection (all busy) before 503 "The database
   * is busy"; also bounds opening a new connection. Ignored by the embedded database.
   */
  readonly databasePoolWaitMs: number;
  /** Named (prepared) statements on the server; off behind a proxy that cannot keep them (ADR 0006). */
  readonly databasePreparedStatements: boolean;
  readonly redisUrl: string | undefined;
  /**
   * 32+ byte key (base64url) that encrypts signing keys at rest, resolved once here: the
   * setting, or for the embedded database a key generated next to dataDir (random when in memory).
   */
  readonly secretKey: string;
  readonly secretKeyOrigin: SecretKeyOrigin;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly jwt: {
    readonly issuer: string;
    readonly audience: string;
    readonly accessTtlSeconds: number;
  };
  readonly session: {
    readonly idleTimeoutSeconds: number;
    readonly absoluteLifetimeSeconds: number;
    readonly cacheTtlSeconds: number;
    readonly cacheMax: number;
  };
  readonly trustProxy: readonly string[];
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** Page that receives password-reset links (`#token=…` is appended). */
  readonly passwordResetUrl: string;
  /** Sign-up, email verification and password policy (src/auth, docs/security.md, ADR 0013). */
  readonly auth: {
    /**
     * `verify`: sign-up answers the same 202 whether or not the address has an account and
     * issues no tokens; the account works once its email is verified. `open`: 201 + tokens,
     * 409 on a taken address. Default `verify` in production, `open` elsewhere.
     */
    readonly signupMode: 'verify' | 'open';
    /** Page that receives email-verification links (`#token=…` is appended). */
    readonly emailVerifyUrl: string;
    /** Lowest zxcvbn score (0–4) a new password may have. */
    readonly passwordMinScore: number;
    /** Verification mails that may be re-sent per address per hour; 0 disables the budget. */
    readonly verifyResendPerAccountPerHour: number;
    /** Verification re-send requests per client IP per hour; 0 disables the budget. */
    readonly verifyResendPerIpPerHour: number;
    /** Page that receives email-change links (`#token=…` is appended; ADR 0021). */
    readonly emailChangeUrl: string;
  };
  /** Rate limits and lockouts (src/rate-limit, docs/security.md). State is in Redis when redisUrl is set. */
  readonly rateLimit: {
    /** Requests per minute per principal (user, API key, or client IP when anonymous); 0 disables. */
    readonly perPrincipalPerMinute: number;
    /** Availability requests per minute per caller (user, API key, or client IP when anonymous); 0 disables. */
    readonly availabilityPerCallerPerMinute: number;
    /** Availability requests per minute per tenant, all callers together; 0 disables. */
    readonly availabilityPerTenantPerMinute: number;
    /** Failed auth attempts (login, MFA, refresh, reset) per client IP per 15 minutes. */
    readonly authFailuresPerIp: number;
    /** When the shared store (Redis) is down, non-auth routes: `memory` (per-instance limits), `open`, `closed` (503). */
    readonly onStoreFailure: 'memory' | 'open' | 'closed';
    readonly keyPrefix: string;
    /** Invitations (each one sends a mail) per inviting user per hour, across tenants; 0 disables. */
    readonly invitationsPerInviterPerHour: number;
    /** Invitations per tenant per hour, whoever sends them; 0 disables. */
    readonly invitationsPerTenantPerHour: number;
  };
  /** Health, metrics, drain, cache bus and backups (src/ops, docs/operations.md). */
  readonly ops: {
    readonly healthToken: string | undefined;
    readonly deepHealthBudgetMs: number;
    readonly deepHealthPerMinute: number;
    readonly metricsPort: number | undefined;
    readonly metricsToken: string | undefined;
    readonly shutdownTimeoutMs: number;
    readonly shutdownDelayMs: number;
    readonly cacheBusChannel: string;
    readonly backupDir: string;
    /** Instance registry heartbeat (ADR 0010): every N seconds; dead after `instanceStaleAfterBeats` missed beats. */
    readonly instanceHeartbeatSeconds: number;
    readonly instanceStaleAfterBeats: number;
  };
  /** Passkeys (src/passkeys, ADR 0016): the WebAuthn relying party. */
  readonly webauthn: {
    /** RP ID (W3C WebAuthn L2 §5.1.2): a registrable domain every allowed origin lies in. */
    readonly rpId: string;
    /** Name authenticators show next to the account. */
    readonly rpName: string;
    /** Origins the browser may report in clientDataJSON (§7.1 step 9); anything else is refused. */
    readonly origins: readonly string[];
  };
  /** Browser access (src/http/browser-access.ts, ADR 0014): CORS and the cookie-session CSRF check. */
  readonly browser: {
    /**
     * First-party web origins (`CORS_ORIGINS`, canonical `scheme://host[:port]`): CORS with
     * credentials on every non-public route, and the only origins a cookie-session request may
     * come from. Public tenant routes use each tenant's own `allowedOrigins` instead.
     */
    readonly corsOrigins: readonly string[];
  };
  /** Sign in with OpenID Connect (src/oidc, ADR 0015); no providers = the routes answer 404. */
  readonly oidc: OidcConfig;
  /**
   * The one public base URL (no trailing slash) that every mailed link starts with: password
   * reset, email verification, invitations, guest confirmation and manage links (docs/booking.md).
   */
  readonly publicUrl: string;
  /** Guest booking and Idempotency-Key (src/booking, src/idempotency, ADR 0018). */
  readonly booking: {
    /** Guest bookings per client IP per hour; 0 disables. */
    readonly guestBookingsPerIpPerHour: number;
    /** Guest bookings per guest email per hour (each one sends a mail); 0 disables. */
    readonly guestBookingsPerEmailPerHour: number;
    /** How long an Idempotency-Key and its answer are kept (at least 24 h). */
    readonly idempotencyKeyTtlSeconds: number;
  };
  /** Durable job queue and cleanup job (src/jobs, ADR 0022). */
  readonly jobs: {
    /** Milliseconds between worker polls; 0 disables this instance's worker. */
    readonly pollMs: number;
    /** Jobs claimed per poll. */
    readonly batchSize: number;
    /** Seconds a claimed job stays with its instance before another may take it over. */
    readonly leaseSeconds: number;
    /** Seconds between cleanup runs. */
    readonly cleanupIntervalSeconds: number;
    /** Rows purged per kind per cleanup run. */
    readonly cleanupBatch: number;
    /** Seconds between looks for due booking reminders (each run enqueues at most 100 sends). */
    readonly reminderIntervalSeconds: number;
    /**
     * Whether a booking change runs its mail jobs right after its commit (ADR 0024); off: they
     * wait for a worker's poll. Either way they are in the jobs table before the commit returns.
     */
    readonly runAfterCommit: boolean;
  };
  /** Booking webhooks (src/webhooks, ADR 0023). */
  readonly webhooks: {
    /** Per-attempt timeout of a delivery. */
    readonly timeoutMs: number;
    /** First retry delay; doubles per attempt up to one hour. */
    readonly backoffBaseMs: number;
    /** Attempts per message, the first included. */
    readonly maxAttempts: number;
    /** Failed attempts in a row after which an endpoint is disabled. */
    readonly disableAfterFailures: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

const MAX_CORS_ORIGINS = 50;

/** A comma list of canonical origins (RFC 6454 §6.2); `*` and any other spelling are refused. */
function readOrigins(env: Env, name: string): readonly string[] {
  const items = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length > MAX_CORS_ORIGINS) throw new ConfigError(`${name} may list at most ${MAX_CORS_ORIGINS} origins`);
  for (const item of items) {
    if (!isCanonicalOrigin(item)) {
      throw new ConfigError(`${name}: "${item}" is not a canonical origin scheme://host[:port] (lower case, no path, no default port, no wildcard)`);
    }
  }
  return Object.freeze([...new Set(items)]);
}

/**
 * A secret setting, from the variable itself or from the file named by `<NAME>_FILE` (container
 * and Kubernetes secrets are mounted as files). One trailing newline is dropped; both at once
 * is an error rather than a silent preference.
 */
export function readSecret(env: Env, name: string): string | undefined {
  const fileVar = `${name}_FILE`;
  const path = env[fileVar];
  const direct = env[name];
  if (path) {
    if (direct) throw new ConfigError(`set either ${name} or ${fileVar}, not both`);
    let value: string;
    try {
      value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`${fileVar}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (value === '') throw new ConfigError(`${fileVar}: ${path} is empty`);
    return value;
  }
  return direct || undefined;
}

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Reads and validates configuration once at startup; throws ConfigError with the offending variable. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (nodeEnv !== 'development' && nodeEnv !== 'production' && nodeEnv !== 'test') {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${nodeEnv}"`);
  }
  const secretKey = readSecret(env, 'BOKA_SECRET_KEY');
  if (secretKey !== undefined && Buffer.from(secretKey, 'base64url').length < 32) {
    throw new ConfigError('BOKA_SECRET_KEY must be at least 32 bytes, base64url-encoded (openssl rand -base64 32)');
  }
  const databaseUrl = readSecret(env, 'DATABASE_URL');
  const accessTtl = readInt(env, 'ACCESS_TOKEN_TTL_SECONDS', 600, 30, 3600);
  const publicUrl = readPublicUrl(env.PUBLIC_URL);
  const config: Omit<Config, 'secretKey' | 'secretKeyOrigin'> & Partial<Pick<Config, 'secretKey' | 'secretKeyOrigin'>> = {
    env: nodeEnv,
    host: env.HOST ?? '127.0.0.1',
    port: readInt(env, 'PORT', 3000, 0, 65535),
    version: env.BOKA_VERSION || readPackageVersion(),
    dataDir: env.BOKA_DATA_DIR || './.boka/data',
    databaseUrl,
    migrationsDir: env.BOKA_MIGRATIONS_DIR || undefined,
    databasePoolMax: readInt(env, 'DATABASE_POOL_MAX', 10, 1, 500),
    databasePoolWaitMs: readInt(env, 'DATABASE_POOL_WAIT_MS', 2_000, 100, 60_000),
    databasePreparedStatements: readChoice(env, 'DATABASE_PREPARED_STATEMENTS', ['on', 'off'], 'on') === 'on',
    redisUrl: readSecret(env, 'REDIS_URL'),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    bodyLimitBytes: readInt(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    requestTimeoutMs: readInt(env, 'REQUEST_TIMEOUT_MS', 10_000, 100, 600_000),
    jwt: {
      issuer: env.JWT_ISSUER ?? 'boka',
      audience: env.JWT_AUDIENCE ?? 'boka-api',
      accessTtlSeconds: accessTtl,
    },
    session: {
      idleTimeoutSeconds: readInt(env, 'SESSION_IDLE_TIMEOUT_SECONDS', 30 * 60, 60, 30 * 24 * 3600),
      absoluteLifetimeSeconds: readInt(env, 'SESSION_ABSOLUTE_LIFETIME_SECONDS', 12 * 3600, 300, 365 * 24 * 3600),
      cacheTtlSeconds: readInt(env, 'SESSION_CACHE_TTL_SECONDS', 60, 1, 3600),
      cacheMax: readInt(env, 'SESSION_CACHE_MAX', 100_000, 100, 10_000_000),
    },
    trustProxy: (env.TRUST_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    smtpUrl: readSecret(env, 'SMTP_URL'),
    mailFrom: env.MAIL_FROM ?? 'Boka <no-reply@boka.invalid>',
    passwordResetUrl: env.PASSWORD_RESET_URL || `${publicUrl}/reset-password`,
    auth: {
      signupMode: readChoice(env, 'AUTH_SIGNUP_MODE', ['verify', 'open'] as const, nodeEnv === 'production' ? 'verify' : 'open'),
      emailVerifyUrl: env.EMAIL_VERIFY_URL || `${publicUrl}/verify-email`,
      passwordMinScore: readInt(env, 'PASSWORD_MIN_SCORE', 3, 0, 4),
      verifyResendPerAccountPerHour: readInt(env, 'EMAIL_VERIFY_RESEND_PER_ACCOUNT_PER_HOUR', 3, 0, 1_000_000),
      verifyResendPerIpPerHour: readInt(env, 'EMAIL_VERIFY_RESEND_PER_IP_PER_HOUR', 30, 0, 1_000_000),
      emailChangeUrl: env.EMAIL_CHANGE_URL || 'http://localhost:3000/confirm-email',
    },
    rateLimit: {
      perPrincipalPerMinute: readInt(env, 'RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE', 1000, 0, 1_000_000),
      availabilityPerCallerPerMinute: readInt(env, 'RATE_LIMIT_AVAILABILITY_PER_CALLER_PER_MINUTE', 60, 0, 1_000_000),
      availabilityPerTenantPerMinute: readInt(env, 'RATE_LIMIT_AVAILABILITY_PER_TENANT_PER_MINUTE', 600, 0, 1_000_000),
      authFailuresPerIp: readInt(env, 'RATE_LIMIT_AUTH_FAILURES_PER_IP', 50, 1, 1_000_000),
      onStoreFailure: readChoice(env, 'RATE_LIMIT_STORE_FAILURE', ['memory', 'open', 'closed'] as const, 'memory'),
      keyPrefix: env.RATE_LIMIT_KEY_PREFIX || 'boka:rl',
      invitationsPerInviterPerHour: readInt(env, 'INVITATIONS_PER_INVITER_PER_HOUR', 20, 0, 1_000_000),
      invitationsPerTenantPerHour: readInt(env, 'INVITATIONS_PER_TENANT_PER_HOUR', 100, 0, 1_000_000),
    },
    ops: {
      healthToken: readSecret(env, 'HEALTH_TOKEN'),
      deepHealthBudgetMs: readInt(env, 'DEEP_HEALTH_BUDGET_MS', 250, 1, 60_000),
      deepHealthPerMinute: readInt(env, 'DEEP_HEALTH_PER_MINUTE', 30, 1, 6000),
      metricsPort: env.METRICS_PORT ? readInt(env, 'METRICS_PORT', 0, 0, 65535) : undefined,
      metricsToken: readSecret(env, 'METRICS_TOKEN'),
      shutdownTimeoutMs: readInt(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, 0, 3_600_000),
      shutdownDelayMs: readInt(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
      cacheBusChannel: env.CACHE_BUS_CHANNEL || 'boka:cache-bus',
      backupDir: env.BACKUP_DIR || './.boka/backups',
      instanceHeartbeatSeconds: readInt(env, 'INSTANCE_HEARTBEAT_SECONDS', 15, 1, 3600),
      instanceStaleAfterBeats: readInt(env, 'INSTANCE_STALE_AFTER_BEATS', 3, 2, 100),
    },
    webauthn: readWebAuthn(env, readInt(env, 'PORT', 3000, 0, 65535)),
    browser: {
      corsOrigins: readOrigins(env, 'CORS_ORIGINS'),
    },
    oidc: readOidcConfig(env, readInt(env, 'OIDC_REQUEST_TIMEOUT_MS', 5000, 100, 60_000), (msg) => {
      throw new ConfigError(msg);
    }),
    publicUrl,
    booking: {
      guestBookingsPerIpPerHour: readInt(env, 'GUEST_BOOKINGS_PER_IP_PER_HOUR', 20, 0, 1_000_000),
      guestBookingsPerEmailPerHour: readInt(env, 'GUEST_BOOKINGS_PER_EMAIL_PER_HOUR', 5, 0, 1_000_000),
      idempotencyKeyTtlSeconds: readInt(env, 'IDEMPOTENCY_KEY_TTL_HOURS', 24, 24, 24 * 30) * 3600,
    },
    jobs: {
      pollMs: readInt(env, 'JOBS_POLL_MS', 1000, 0, 60_000),
      batchSize: readInt(env, 'JOBS_BATCH_SIZE', 20, 1, 500),
      leaseSeconds: readInt(env, 'JOBS_LEASE_SECONDS', 300, 5, 3600),
      cleanupIntervalSeconds: readInt(env, 'CLEANUP_INTERVAL_SECONDS', 600, 10, 86_400),
      cleanupBatch: readInt(env, 'CLEANUP_BATCH', 1000, 1, 10_000),
      reminderIntervalSeconds: readInt(env, 'REMINDER_INTERVAL_SECONDS', 60, 10, 3600),
      runAfterCommit: readChoice(env, 'JOBS_RUN_AFTER_COMMIT', ['on', 'off'], 'on') === 'on',
    },
    webhooks: {
      timeoutMs: readInt(env, 'WEBHOOK_TIMEOUT_MS', 5000, 100, 30_000),
      backoffBaseMs: readInt(env, 'WEBHOOK_BACKOFF_BASE_MS', 30_000, 1, 3_600_000),
      maxAttempts: readInt(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 20),
      disableAfterFailures: readInt(env, 'WEBHOOK_DISABLE_AFTER_FAILURES', 20, 1, 1000),
    },
    ...overrides,
  };
  return Object.freeze({ ...config, ...resolveSecretKey(config, secretKey, env.BOKA_SECRET_KEY_FILE ? 'BOKA_SECRET_KEY_FILE' : 'BOKA_SECRET_KEY') });
}

/**
 * `WEBAUTHN_ORIGINS` (comma-separated; default `http://localhost:<PORT>`), `WEBAUTHN_RP_ID`
 * (default: the first origin's host) and `WEBAUTHN_RP_NAME`. Each origin must be a bare origin,
 * https unless it is localhost (a secure context, §13.4.5), on the RP ID or a subdomain of it.
 */
function readWebAuthn(env: Env, port: number): Config['webauthn'] {
  const raw = env.WEBAUTHN_ORIGINS || `http://localhost:${port}`;
  const origins = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const hosts = origins.map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`WEBAUTHN_ORIGINS: "${origin}" is not a URL`);
    }
    if (url.origin !== origin) throw new ConfigError(`WEBAUTHN_ORIGINS: "${origin}" must be a bare origin such as ${url.origin}`);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === 'localhost')) {
      throw new ConfigError(`WEBAUTHN_ORIGINS: "${origin}" must use https (http only for localhost)`);
    }
    return url.hostname;
  });
  const rpId = (env.WEBAUTHN_RP_ID || hosts[0] || '').toLowerCase();
  if (!/^[a-z0-9.-]{1,253}$/.test(rpId)) throw new ConfigError(`WEBAUTHN_RP_ID must be a domain name, got "${rpId}"`);
  for (const host of hosts) {
    if (host !== rpId && !host.endsWith(`.${rpId}`)) throw new ConfigError(`WEBAUTHN_ORIGINS: ${host} is not ${rpId} or a subdomain of it (WEBAUTHN_RP_ID)`);
  }
  const rpName = env.WEBAUTHN_RP_NAME || 'Boka';
  if (rpName.length > 64) throw new ConfigError('WEBAUTHN_RP_NAME must be at most 64 characters');
  return { rpId, rpName, origins: Object.freeze(origins) };
}

/** Resolved after overrides, so a test's in-memory or server database decides as at run time. */
function resolveSecretKey(
  config: Pick<Partial<Config>, 'secretKey' | 'secretKeyOrigin'> & Pick<Config, 'databaseUrl' | 'dataDir'>,
  fromEnv: string | undefined,
  source: 'BOKA_SECRET_KEY' | 'BOKA_SECRET_KEY_FILE',
): Pick<Config, 'secretKey' | 'secretKeyOrigin'> {
  if (config.secretKey) return { secretKey: config.secretKey, secretKeyOrigin: config.secretKeyOrigin ?? { source } };
  if (fromEnv) return { secretKey: fromEnv, secretKeyOrigin: { source } };
  if (config.databaseUrl) {
    throw new ConfigError('BOKA_SECRET_KEY (or BOKA_SECRET_KEY_FILE) is required with DATABASE_URL: every instance must decrypt the same signing keys');
  }
  const { key, origin } = generateSecretKey(config.dataDir);
  return { secretKey: key, secretKeyOrigin: origin };
}

/** PUBLIC_URL: an absolute http(s) URL without query or fragment; stored without a trailing slash. */
function readPublicUrl(value: string | undefined): string {
  const raw = value || 'http://localhost:3000';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute URL, got "${raw}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new ConfigError('PUBLIC_URL must be an http(s) URL without credentials, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}
