-- phase: expand
-- Account self-service and platform user administration (issue 18, ADR 0021). Expand only: every
-- new column is nullable or defaulted, so the previous release keeps reading and writing users,
-- tenant settings and sessions as before.

-- A superadmin disabled the account (ASVS 4.0.3 3.3.x: its sessions end at once); NULL = active.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN disabled_reason text;
-- The owner deleted the account: name and email are anonymised (email → a unique tombstone),
-- credentials dropped; the row stays so audit rows naming its id keep pointing somewhere.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;

-- Email change with re-verification: `ec_<id>.<secret>` mailed to the new address, only the
-- SHA-256 of the secret stored (ASVS 2.9.2 / 3.5.2). The address at request time is kept, so a
-- link issued before another change cannot be confirmed afterwards.
CREATE TABLE email_changes (
  id                   uuid PRIMARY KEY,
  user_id              uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  old_email_normalized text NOT NULL,
  new_email            text NOT NULL,
  new_email_normalized text NOT NULL,
  secret_hash          bytea NOT NULL,
  created_at           timestamptz NOT NULL,
  expires_at           timestamptz NOT NULL,
  used_at              timestamptz
);
CREATE INDEX email_changes_user_idx ON email_changes (user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON email_changes TO boka_app;

-- Tenant setting: customers must have a verified email to book, and invitees to join.
ALTER TABLE tenant_settings ADD COLUMN require_verified_email boolean NOT NULL DEFAULT false;
