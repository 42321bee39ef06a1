-- phase: expand
-- Email verification (ASVS 4.0.3 2.5.x-style one-time link; issue 18). `email_verified_at` is
-- NULL until the owner of the address follows a link sent to it (or resets the password through
-- one). Accounts created before this migration stay unverified: fail closed for customer linking.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- One-time verification tokens: `ev_<id>.<secret>`, only the SHA-256 of the secret stored
-- (ASVS 2.9.2 / 3.5.2). The address the link was sent to is kept, so a link proves only that
-- address (a later email change cannot be verified by an old link).
CREATE TABLE email_verifications (
  id               uuid PRIMARY KEY,
  user_id          uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email_normalized text NOT NULL,
  secret_hash      bytea NOT NULL,
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON email_verifications TO boka_app;
