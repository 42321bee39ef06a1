-- phase: expand
-- Sign in with OpenID Connect (issue #18, ADR 0015). Platform data tied to users, not to a
-- tenant: no row-level security (like email_verifications).

-- A user's identity at a configured provider: the provider id from OIDC_PROVIDERS and the
-- provider's `sub`, unique together (OIDC Core 1.0 §5.7: only iss + sub identify an end user;
-- the email is kept for display, never for lookup).
CREATE TABLE oidc_identities (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider_id   text NOT NULL CHECK (provider_id ~ '^[a-z0-9-]{1,32}$'),
  subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  email         text,
  created_at    timestamptz NOT NULL,
  last_login_at timestamptz,
  UNIQUE (provider_id, subject)
);
CREATE INDEX oidc_identities_user_idx ON oidc_identities (user_id);

-- One authorization request in flight. Only the SHA-256 of `state` and of the browser-binding
-- cookie are stored; the PKCE verifier (RFC 7636) and the nonce are encrypted at rest. Short
-- lived and single use (`used_at`).
CREATE TABLE oidc_flows (
  id           uuid PRIMARY KEY,
  provider_id  text NOT NULL,
  state_hash   bytea NOT NULL,
  binding_hash bytea NOT NULL,
  secrets_enc  text NOT NULL,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);
CREATE INDEX oidc_flows_expires_idx ON oidc_flows (expires_at);

-- The one-time login code the callback hands to the app (in a URL fragment), exchanged for a
-- session by POST /api/auth/oidc/exchange: tokens never travel in a URL. Hash only, single use.
CREATE TABLE oidc_login_codes (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider_id text NOT NULL,
  secret_hash bytea NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

-- Accounts created by an OIDC sign-in get a random, never-disclosed password hash (users.password_hash
-- is NOT NULL). It is remembered here so that "has a usable password" is `password_hash` differing
-- from it: a later password reset makes the password usable without any other bookkeeping.
CREATE TABLE oidc_placeholder_passwords (
  user_id       uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  password_hash text NOT NULL
);

-- The first factor an MFA challenge follows (RFC 8176 `amr`: `pwd` or `fed`), so a session
-- finished with TOTP after an OIDC sign-in records `fed` + `otp`. Challenges of the previous
-- release (which does not write the column) are password logins: the default says so.
ALTER TABLE mfa_challenges ADD COLUMN first_factor text NOT NULL DEFAULT 'pwd';

GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_identities, oidc_flows, oidc_login_codes, oidc_placeholder_passwords TO boka_app;
