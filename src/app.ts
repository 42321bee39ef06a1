import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { destination, pino, type DestinationStream } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from './app-services.js';
import { createAccessTokenService } from './auth/access-tokens.service.js';
import { createAccountService } from './auth/accounts.service.js';
import { authRoutes } from './auth/auth.routes.js';
import { installPipeline, PUBLIC } from './access/index.js';
import { createAccessTokenStrategy } from './auth/access-token.strategy.js';
import { createSessionService } from './auth/sessions.service.js';
import type { CacheBus } from './cache/invalidation-bus.js';
import { createInProcessBus } from './cache/in-process-bus.js';
import type { Config } from './config/config.js';
import type { Database } from './db/index.js';
import { createMailTransport, type MailTransport } from './mail/index.js';
import { handleFrameworkError, installErrorHandling } from './http/error-handler.js';
import { installInputGuards } from './http/input-guard.js';
import { installBrowserAccess } from './http/browser-access.js';
import { installResponseHeaders } from './http/response-headers.js';
import { lazyRequestLogger } from './http/request-logger.js';
import { createCsrfStep } from './auth/csrf.step.js';
import { buildSchemaController } from './http/validation.js';
import { installOpenApi } from './http/openapi.js';
import { installLinkPages } from './http/link-pages.js';
import { REDACTED_PATHS } from './http/redaction.js';
import { createOps, installOps, instrumentDatabase, type Ops } from './ops/index.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createEventHub, type EventHub } from './shared/events.js';
import { createMembershipResolver } from './tenancy/memberships.cache.js';
import { createTenancyService } from './tenancy/tenancy.service.js';
import { tenancyRoutes } from './tenancy/tenancy.routes.js';
import { bookingRoutes, createBookingServices } from './booking/index.js';
import { createNotificationsService, enqueueReservationMail, notificationRoutes, registerReminderJobs, registerReservationMailJob } from './notifications/index.js';
import { invitationRoutes } from './invitations/invitations.routes.js';
import { createInvitationsService } from './invitations/invitations.service.js';
import { createSuperadminAuditStep } from './admin/superadmin-audit.step.js';
import { createApiKeyStrategy } from './api-keys/api-key.strategy.js';
import { apiKeyRoutes } from './api-keys/api-keys.routes.js';
import { createApiKeyService } from './api-keys/api-keys.service.js';
import { auditRoutes } from './audit/audit.routes.js';
import { createAuditService } from './audit/audit.service.js';
import { createPasswordFlows } from './auth/password-flows.service.js';
import { createEmailVerification } from './auth/email-verification.service.js';
import { emailVerificationRoutes } from './auth/email-verification.routes.js';
import { createPasswordPolicy } from './auth/password-policy.js';
import { passwordFlowRoutes } from './auth/password-flows.routes.js';
import { mfaPolicyRoutes } from './mfa/mfa-policy.routes.js';
import { createMfaPolicyService } from './mfa/mfa-policy.service.js';
import { createMfaPolicyStep } from './mfa/mfa-policy.step.js';
import { mfaRoutes } from './mfa/mfa.routes.js';
import { createMfaService } from './mfa/mfa.service.js';
import { createRateLimits } from './rate-limit/index.js';
import { passkeyRoutes } from './passkeys/passkeys.routes.js';
import { createPasskeyService } from './passkeys/passkeys.service.js';
import { createOidcClient, createOidcService, oidcRoutes } from './oidc/index.js';
import { accountRoutes } from './auth/account.routes.js';
import { createAccountSelfService } from './auth/account.service.js';
import { createReauthenticator } from './auth/reauth.js';
import { userAdminRoutes } from './admin/user-admin.routes.js';
import { createUserAdminService } from './admin/user-admin.service.js';
import { createIdempotencyService, installIdempotency } from './idempotency/index.js';
import { createJobQueue, registerCleanupJob } from './jobs/index.js';
import { createWebhookService, webhookRoutes, type ResolveHost } from './webhooks/index.js';

export interface AppDeps {
  db: Database;
  bus?: CacheBus;
  /** Metrics + drain state; main.ts passes its own so it can drain and serve METRICS_PORT. */
  ops?: Ops;
  clock?: Clock;
  events?: EventHub;
  mail?: MailTransport;
  /**
   * Where log lines go: the server passes its asynchronous stdout destination (ADR 0027), tests a
   * stream that captures them; default pino's synchronous stdout (short-lived commands).
   */
  logStream?: DestinationStream;
  /** Resolves webhook host names (tests play DNS, e.g. a rebinding server); default the system resolver. */
  resolveHost?: ResolveHost;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds every service from config + ports. Separate from buildApp so CLIs can reuse it. */
export async function buildServices(config: Config, deps: AppDeps): Promise<AppServices> {
  // One pino logger for services and HTTP alike, with secrets redacted (ASVS 7.1.1).
  const logger: FastifyBaseLogger = pino(
    { level: config.logLevel, redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' }, base: { version: config.version } },
    deps.logStream ?? destination(1),
  );
  const ops = deps.ops ?? createOps(config);
  deps = { ...deps, db: instrumentDatabase(deps.db, ops.metrics) };
  const clock = deps.clock ?? systemClock;
  const bus = deps.bus ?? createInProcessBus();
  const events = deps.events ?? createEventHub();
  const mail = deps.mail ?? createMailTransport(config, (line) => logger.info(line));
  const secretKey = Buffer.from(config.secretKey, 'base64url');
  const tokens = await createAccessTokenService({
    db: deps.db,
    encryptionKey: secretKey,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.jwt.accessTtlSeconds,
    clock,
  });
  bus.subscribe((m) => {
    // A failed reload (database down) keeps the keys it has; an unknown kid reloads again later.
    // Every Redis (re)subscription, the first included; outages themselves are logged as errors.
    if (m.kind === 'all') logger.info('cache bus subscribed: every cache was dropped (messages sent while unsubscribed are lost)');
    if (m.kind === 'signing_keys' || m.kind === 'all') tokens.reload().catch((err: unknown) => logger.error({ err }, 'signing key reload failed'));
  });
  const sessions = createSessionService({
    db: deps.db,
    bus,
    clock,
    tokens,
    events,
    idleTimeoutSeconds: config.session.idleTimeoutSeconds,
    absoluteLifetimeSeconds: config.session.absoluteLifetimeSeconds,
    cacheTtlSeconds: config.session.cacheTtlSeconds,
    cacheMax: config.session.cacheMax,
    onCacheLookup: (result) => ops.metrics.countCacheLookup('session', result),
    onTouchError: (err) => logger.error({ err }, 'session last-seen write failed'),
  });
  const memberships = createMembershipResolver({
    db: deps.db,
    bus,
    clock,
    ttlSeconds: config.session.cacheTtlSeconds,
    max: config.session.cacheMax,
    onCacheLookup: (result) => ops.metrics.countCacheLookup('membership', result),
  });
  // Security layer (docs/security.md): lockouts and limits, audit trail, MFA, API keys, password flows.
  const logError = (msg: string, err: unknown, extra: Record<string, unknown> = {}) => logger.error({ err, ...extra }, msg);
  const rateLimits = await createRateLimits(config, { events, onStoreError: (err) => logError('rate-limit store error', err) });
  const audit = createAuditService({
    db: deps.db,
    clock,
    events,
    onWriteError: (err, entry) => logError('audit write failed', err, { audit: { ...entry, meta: entry.meta ?? null } }),
  });
  const cacheTtlSeconds = config.session.cacheTtlSeconds;
  const mfa = createMfaService({ db: deps.db, bus, clock, events, sessions, guard: rateLimits.guard, encryptionKey: secretKey, issuer: 'Boka', cacheTtlSeconds });
  const mfaPolicies = createMfaPolicyService({ db: deps.db, bus, clock, events, cacheTtlSeconds });
  const apiKeys = createApiKeyService({
    db: deps.db, bus, clock, events, cacheTtlSeconds, cacheMax: config.session.cacheMax,
    onFlushError: (err) => logError('api key lastUsedAt flush failed', err),
    onCacheLookup: (result) => ops.metrics.countCacheLookup('api_key', result),
    onVerify: (result) => ops.metrics.countApiKeyRequest(result),
    maxRateLimitPerMinute: config.rateLimit.perPrincipalPerMinute,
  });
  const passwordPolicy = createPasswordPolicy(config.auth.passwordMinScore);
  const passwords = createPasswordFlows({
    db: deps.db, bus, clock, events, sessions, mail, guard: rateLimits.guard, policy: passwordPolicy, resetUrl: config.passwordResetUrl,
    onMailError: (err) => logError('mail send failed', err),
  });
  const emailVerification = createEmailVerification({
    db: deps.db, clock, bus, mail, guard: rateLimits.guard,
    perAccount: rateLimits.budget('verify-resend-account', config.auth.verifyResendPerAccountPerHour, 3600),
    perIp: rateLimits.budget('verify-resend-ip', config.auth.verifyResendPerIpPerHour, 3600),
    verifyUrl: config.auth.emailVerifyUrl, resetUrl: config.passwordResetUrl,
    onMailError: (err) => logError('mail send failed', err),
  });
  const accounts = await createAccountService({
    db: deps.db, bus, clock, cacheTtlSeconds, cacheMax: config.session.cacheMax, sessions, events, guard: rateLimits.guard, mfa,
    verification: emailVerification, passwordPolicy, signupMode: config.auth.signupMode,
    onMailError: (err) => logError('mail send failed', err),
    onCacheLookup: (result) => ops.metrics.countCacheLookup('user', result),
  });
  const tenancy = createTenancyService({
    db: deps.db, events, memberships, bus, clock, cacheTtlSeconds,
    onTenantLookup: (result) => ops.metrics.countCacheLookup('tenant', result),
    onUserMembershipsLookup: (result) => ops.metrics.countCacheLookup('user_memberships', result),
  });
  const guestsPerIp = rateLimits.budget('guest-booking-ip', config.booking.guestBookingsPerIpPerHour, 3600, 'Too many guest bookings from this address; try again later');
  const guestsPerEmail = rateLimits.budget('guest-booking-email', config.booking.guestBookingsPerEmailPerHour, 3600, 'Too many bookings for this email address; try again later');
  // Durable jobs (ADR 0022): one worker per instance, claims shared through the database.
  const jobs = createJobQueue({
    db: deps.db, clock, instanceId: randomUUID(), pollMs: config.jobs.pollMs, batchSize: config.jobs.batchSize,
    leaseMs: config.jobs.leaseSeconds * 1000,
    onError: (msg, err, extra) => logError(msg, err, extra),
  });
  const webhooks = createWebhookService({
    db: deps.db, clock, events, jobs, encryptionKey: secretKey,
    settings: {
      production: config.env === 'production', timeoutMs: config.webhooks.timeoutMs, disableAfterFailures: config.webhooks.disableAfterFailures,
      retry: { maxAttempts: config.webhooks.maxAttempts, backoffBaseMs: config.webhooks.backoffBaseMs, backoffMaxMs: 3_600_000 },
    },
    ...(deps.resolveHost ? { resolve: deps.resolveHost } : {}),
    onError: (msg, err) => logError(msg, err),
  });
  // Booking mail with .ics, reminders and iCal feeds (issue 17), sent by jobs the reservation
  // change writes in its own transaction with its webhook messages (the outbox, ADR 0024).
  const notifications = createNotificationsService({
    db: deps.db, clock, mail, publicUrl: config.publicUrl, mailFrom: config.mailFrom,
    onMailError: (err) => logError('mail send failed', err),
  });
  registerReservationMailJob(jobs, notifications);
  const booking = createBookingServices({
    db: deps.db, clock, events, memberships, bus, cacheTtlSeconds, mail, publicUrl: config.publicUrl,
    calendarInvite: (ref) => notifications.invitationFor(ref),
    jobs, secretKey, runAfterCommit: config.jobs.runAfterCommit,
    recordEffects: async (tx, change) => {
      await webhooks.enqueueFor(tx, change);
      const mailJob = await enqueueReservationMail(jobs, tx, change);
      return mailJob ? [mailJob] : [];
    },
    spendGuestBooking: async (ip, emailHash) => {
      await guestsPerIp.consume(ip);
      await guestsPerEmail.consume(emailHash);
    },
    onMailError: (err) => logError('mail send failed', err),
  });
  const idempotency = createIdempotencyService({
    db: deps.db, clock, ttlSeconds: config.booking.idempotencyKeyTtlSeconds, leaseSeconds: Math.ceil((2 * config.requestTimeoutMs) / 1000),
  });
  const invitationsPerInviter = rateLimits.budget('invitations-inviter', config.rateLimit.invitationsPerInviterPerHour, 3600);
  const invitationsPerTenant = rateLimits.budget('invitations-tenant', config.rateLimit.invitationsPerTenantPerHour, 3600);
  const invitations = createInvitationsService({
    db: deps.db, clock, events, mail, memberships,
    tenantName: async (tenantId) => (await tenancy.getTenant(tenantId)).name,
    acceptUrl: `${config.publicUrl}/invitations/accept`,
    spendInvitation: async (tenantId, inviterId) => {
      await invitationsPerInviter.consume(inviterId);
      await invitationsPerTenant.consume(tenantId);
    },
  });
  const passkeys = createPasskeyService({
    db: deps.db, clock, events, sessions, guard: rateLimits.guard, mfa, profiles: accounts, webauthn: config.webauthn,
  });
  const oidc = createOidcService({
    db: deps.db, clock, events, sessions, mfa, config: config.oidc, encryptionKey: secretKey,
    client: createOidcClient({
      clock, timeoutMs: config.oidc.requestTimeoutMs, allowHttp: config.env !== 'production',
      // Name, code and message only: a failed check's `cause` may carry claims and the expected nonce.
      onError: (provider, stage, err) => logger.warn({ provider, stage, error: err instanceof Error ? { name: err.name, code: (err as { code?: unknown }).code, message: err.message } : String(err) }, 'oidc provider request failed'),
    }),
  });
  // Account self-service and platform user administration (ADR 0021).
  const accountSelfService = createAccountSelfService({
    db: deps.db, bus, clock, events, mail, accounts, memberships, guard: rateLimits.guard,
    reauth: createReauthenticator({ db: deps.db, guard: rateLimits.guard, clock, events, passkeys }),
    perAccount: rateLimits.budget('email-change-account', config.auth.verifyResendPerAccountPerHour, 3600),
    changeUrl: config.auth.emailChangeUrl,
    onMailError: (err) => logError('mail send failed', err),
  });
  const userAdmin = createUserAdminService({ db: deps.db, bus, clock, events });
  registerCleanupJob(jobs, {
    db: deps.db, clock, everyMs: config.jobs.cleanupIntervalSeconds * 1000, batch: config.jobs.cleanupBatch,
    expireHolds: (at, batch) => booking.effects.expireLapsedHolds(at, batch),
    onPurged: (counts) => logger.info({ purged: counts }, 'cleanup job ran'),
  });
  registerReminderJobs(jobs, { notifications, everyMs: config.jobs.reminderIntervalSeconds * 1000, batch: 100, now: () => clock.now() });
  ops.metrics.subscribe(events);
  return { config, logger, db: deps.db, bus, clock, events, mail, tokens, sessions, accounts, memberships, tenancy, ops,
    rateLimits, audit, mfa, mfaPolicies, apiKeys, passwords, emailVerification, booking, invitations, passkeys, oidc, accountSelfService, userAdmin, idempotency, notifications, jobs, webhooks };
}

/**
 * Returns a Fastify instance that is not listening (tests drive it with `inject()`).
 * Route order matters only in one way: the pipeline and error handling are installed
 * before any route, so every route is checked for an access policy.
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const services = await buildServices(config, deps);
  const app = Fastify({
    loggerInstance: services.logger,
    // One line per request is written by our own onResponse hook (with route, principal, tenant).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    // The timeout covers headers and body (a half-sent body used to hold a connection ≈ 90 s):
    // Node checks expired requests only every `connectionsCheckingInterval` (30 s by default) and
    // waits up to 60 s for headers unless told otherwise.
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(config.requestTimeoutMs / 4))),
    },
    // Draining (src/main.ts): requests already on an open connection are served, with
    // `Connection: close`, instead of a 503 (src/ops/install.ts).
    return503OnClosing: false,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    schemaController: buildSchemaController(),
    frameworkErrors: handleFrameworkError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Synchronous hooks on the per-request path: an async hook costs a promise and a microtask turn
  // on every request (issue 16). First: the request id and the security headers, on every answer.
  installResponseHeaders(app);
  // The request line goes through the root logger with `reqId` spelled out, so no per-request
  // child logger is built for it (src/http/request-logger.ts); same fields as before.
  const requestLog = services.logger;
  app.addHook('onResponse', (request, reply, done) => {
    const principal = request.auth?.principal;
    requestLog.info(
      {
        reqId: request.id,
        requestId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        principal: principal ? (principal.kind === 'user' ? `user:${principal.userId}` : `api_key:${principal.keyId}`) : null,
        tenantId: request.auth?.tenantId ?? null,
      },
      'request',
    );
    done();
  });

  installErrorHandling(app);
  // Before the pipeline: CORS headers reach refusals too, and the cookies are parsed for the CSRF step.
  await installBrowserAccess(app, {
    publicAccess: PUBLIC,
    corsOrigins: config.browser.corsOrigins,
    publicOrigins: (slug) => services.booking.publicOrigins.forSlug(slug),
  });
  installPipeline(app, {
    strategies: [createAccessTokenStrategy(services), createApiKeyStrategy(services.apiKeys)],
    tenantRoles: services.memberships,
    events: services.events,
    operatorTokens: { metrics: config.ops.metricsToken, health: config.ops.healthToken },
    steps: [
      createCsrfStep({ allowedOrigins: config.browser.corsOrigins }),
      services.rateLimits.step,
      createMfaPolicyStep(services.mfaPolicies, services.mfa),
      createSuperadminAuditStep(services.events),
    ],
  });
  installInputGuards(app);
  installIdempotency(app, services.idempotency, (err) => services.logger.error({ err }, 'idempotency answer not stored'));

  await installOpenApi(app, { version: config.version, publicAccess: PUBLIC });
  installLinkPages(app, { publicAccess: PUBLIC });
  await installOps(app, services);
  await app.register(authRoutes, { services });
  await app.register(tenancyRoutes, { services });
  await app.register(bookingRoutes, { services });
  await app.register(invitationRoutes, { services });
  await app.register(apiKeyRoutes, { services });
  await app.register(mfaRoutes, { services });
  await app.register(mfaPolicyRoutes, { services });
  await app.register(auditRoutes, { services });
  await app.register(passwordFlowRoutes, { services });
  await app.register(emailVerificationRoutes, { services });
  await app.register(passkeyRoutes, { services });
  await app.register(oidcRoutes, { services });
  await app.register(accountRoutes, { services });
  await app.register(userAdminRoutes, { services });
  await app.register(notificationRoutes, { notifications: services.notifications });
  await app.register(webhookRoutes, { services });

  app.addHook('onReady', async () => {
    await services.jobs.start();
  });
  app.addHook('onClose', async () => {
    await services.jobs.stop();
    await services.apiKeys.close();
    await services.sessions.close();
    await services.audit.flush();
    await services.rateLimits.close();
    await services.bus.close();
  });
  return app;
}
