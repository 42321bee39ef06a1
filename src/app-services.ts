import type { AccessTokenService } from './auth/access-tokens.service.js';
import type { AccountService } from './auth/accounts.service.js';
import type { SessionService } from './auth/sessions.service.js';
import type { CacheBus } from './cache/invalidation-bus.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/config.js';
import type { Database } from './db/index.js';
import type { MailTransport } from './mail/index.js';
import type { Ops } from './ops/index.js';
import type { BookingServices } from './booking/index.js';
import type { NotificationsService } from './notifications/index.js';
import type { InvitationsService } from './invitations/invitations.service.js';
import type { ApiKeyService } from './api-keys/api-keys.service.js';
import type { AuditService } from './audit/audit.service.js';
import type { PasswordFlows } from './auth/password-flows.service.js';
import type { EmailVerification } from './auth/email-verification.service.js';
import type { MfaPolicyService } from './mfa/mfa-policy.service.js';
import type { MfaService } from './mfa/mfa.service.js';
import type { RateLimits } from './rate-limit/index.js';
import type { Clock } from './shared/clock.js';
import type { EventHub } from './shared/events.js';
import type { MembershipResolver } from './tenancy/memberships.cache.js';
import type { TenancyService } from './tenancy/tenancy.service.js';
import type { PasskeyService } from './passkeys/passkeys.service.js';
import type { OidcService } from './oidc/index.js';
import type { AccountSelfService } from './auth/account.service.js';
import type { UserAdminService } from './admin/user-admin.service.js';
import type { IdempotencyService } from './idempotency/index.js';
import type { JobQueue } from './jobs/index.js';
import type { WebhookService } from './webhooks/index.js';

/** Everything route plugins may call, built once by buildApp. */
export interface AppServices {
  readonly config: Config;
  readonly logger: FastifyBaseLogger;
  readonly db: Database;
  readonly bus: CacheBus;
  readonly clock: Clock;
  readonly events: EventHub;
  readonly mail: MailTransport;
  readonly tokens: AccessTokenService;
  readonly sessions: SessionService;
  readonly accounts: AccountService;
  readonly memberships: MembershipResolver;
  readonly tenancy: TenancyService;
  readonly ops: Ops;
  // Security layer (docs/security.md).
  readonly rateLimits: RateLimits;
  readonly audit: AuditService;
  readonly mfa: MfaService;
  readonly mfaPolicies: MfaPolicyService;
  readonly apiKeys: ApiKeyService;
  readonly passwords: PasswordFlows;
  readonly emailVerification: EmailVerification;
  readonly booking: BookingServices;
  readonly invitations: InvitationsService;
  readonly passkeys: PasskeyService;
  readonly oidc: OidcService;
  // Account self-service and platform user administration (ADR 0021).
  readonly accountSelfService: AccountSelfService;
  readonly userAdmin: UserAdminService;
  /** Idempotency-Key storage for POSTs that create something (ADR 0018). */
  readonly idempotency: IdempotencyService;
  /** Booking mail with .ics, reminders (`dueReminders` / `sendReminder`) and iCal feeds (issue 17). */
  readonly notifications: NotificationsService;
  /** Durable job queue; its worker runs from ready to close (ADR 0022). */
  readonly jobs: JobQueue;
  /** Booking webhooks, delivered from the job queue (ADR 0023). */
  readonly webhooks: WebhookService;
}
