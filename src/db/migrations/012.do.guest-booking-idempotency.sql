-- phase: expand
-- Guest booking, manage links and Idempotency-Key (issue 17, docs/booking.md, ADR 0018).
-- Expand only: new tables and defaulted / nullable columns; release N-1 ignores all of them.

-- Tenant settings for guests: confirm at once, or hold the slot `guest_hold_minutes` while the
-- guest follows the emailed confirmation link.
ALTER TABLE tenant_settings ADD COLUMN guest_auto_confirm boolean NOT NULL DEFAULT false;
ALTER TABLE tenant_settings ADD COLUMN guest_hold_minutes integer NOT NULL DEFAULT 30
  CHECK (guest_hold_minutes BETWEEN 5 AND 1440);

-- A pending guest booking holds its slot until this instant (NULL: no expiry, as before). An
-- expired hold is treated as free by availability and is cancelled in the transaction of the
-- booking that needs its slot (no job queue yet), so the exclusion constraint of 002 still
-- covers every pending row.
ALTER TABLE reservations ADD COLUMN hold_expires_at timestamptz;

-- Manage links: `mng_<id>.<secret>`; only SHA-256(secret) is stored (ASVS 2.9.2 / 3.5.2). One
-- link names one reservation; a cancel or reschedule consumes it (`used_at`), a reschedule
-- issues a new one.
CREATE TABLE manage_links (
  id             uuid PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  reservation_id uuid NOT NULL REFERENCES reservations(id) ON DELETE CASCADE,
  secret_hash    bytea NOT NULL,
  created_at     timestamptz NOT NULL,
  used_at        timestamptz
);
CREATE INDEX manage_links_reservation_idx ON manage_links (reservation_id);
ALTER TABLE manage_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE manage_links FORCE ROW LEVEL SECURITY;
CREATE POLICY manage_links_tenant_scope ON manage_links
  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- Following a link happens outside any tenant: a transaction that sets app.manage_link_id may
-- read that one row (its secret is still verified against the hash), like invitations_by_id.
CREATE POLICY manage_links_by_id ON manage_links FOR SELECT
  USING (id = NULLIF(current_setting('app.manage_link_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON manage_links TO boka_app;

-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): one row per (scope, key). The
-- scope is the principal (`user:<id>`, `api_key:<id>`), a guest (`guest:<sha256 of the
-- normalized email>`) or a client IP; the fingerprint is SHA-256 of method, path and the
-- canonical JSON body. Not tenant data (a scope spans tenants), so no RLS, like sessions.
CREATE TABLE idempotency_keys (
  scope           text NOT NULL CHECK (length(scope) BETWEEN 1 AND 200),
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint     bytea NOT NULL,
  status          text NOT NULL CHECK (status IN ('in_progress', 'completed')),
  response_status integer CHECK (response_status BETWEEN 200 AND 499),
  response_body   text,
  locked_until    timestamptz NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO boka_app;
