-- phase: expand
-- Passkeys (W3C WebAuthn Level 2; issue 18, ADR 0016). User-scoped like sessions and user_mfa,
-- so no tenant and no row-level security. Only public keys are stored: a database leak yields
-- nothing that signs in.
CREATE TABLE passkeys (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- base64url credential id (§6.1: at most 1023 bytes); one account per authenticator credential.
  credential_id  text NOT NULL UNIQUE,
  -- COSE_Key (RFC 9052 §7) as the authenticator sent it.
  public_key     bytea NOT NULL,
  -- Signature counter (§6.1.1); 0 for authenticators that do not keep one.
  sign_count     bigint NOT NULL DEFAULT 0,
  transports     text[] NOT NULL DEFAULT ARRAY[]::text[],
  device_type    text NOT NULL,
  backed_up      boolean NOT NULL DEFAULT false,
  name           text NOT NULL,
  created_at     timestamptz NOT NULL,
  last_used_at   timestamptz
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at);

-- Server-side WebAuthn challenges (§13.4.3): random 32 bytes, only their SHA-256 stored, single
-- use, short-lived, bound to a purpose and, except for a usernameless sign-in (where the
-- challenge itself is the login attempt), to a user. The client never names a challenge: it is
-- found by the hash of the one the authenticator signed in clientDataJSON.
CREATE TABLE webauthn_challenges (
  id              uuid PRIMARY KEY,
  purpose         text NOT NULL CHECK (purpose IN ('registration', 'authentication', 'second_factor', 'reauthentication')),
  user_id         uuid REFERENCES users(id) ON DELETE CASCADE,
  challenge_hash  bytea NOT NULL UNIQUE,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX webauthn_challenges_expiry_idx ON webauthn_challenges (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON passkeys, webauthn_challenges TO boka_app;
