-- phase: expand
-- Durable job queue and the cleanup job (issue 17, ADR 0022). Expand only: new table and
-- function; release N-1 never reads or writes them.

-- One row per job. Not tenant data (a job may span tenants; a tenant job carries its tenant id
-- in the payload and its handler scopes its own transactions), so no RLS, like sessions.
-- A worker claims due rows with FOR UPDATE SKIP LOCKED and holds them for `lease_until`;
-- completion is fenced by (locked_by, attempts), so a job whose lease lapsed and was claimed
-- again by another instance cannot be completed twice.
CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  payload       jsonb NOT NULL DEFAULT '{}',
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  run_at        timestamptz NOT NULL,
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts  integer NOT NULL DEFAULT 8 CHECK (max_attempts BETWEEN 1 AND 100),
  lease_until   timestamptz,
  locked_by     text CHECK (length(locked_by) <= 100),
  -- A recurring job has one live (queued or running) row per key.
  singleton_key text CHECK (length(singleton_key) <= 200),
  last_error    text CHECK (length(last_error) <= 500),
  created_at    timestamptz NOT NULL,
  finished_at   timestamptz
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE status IN ('done', 'failed');
CREATE UNIQUE INDEX jobs_singleton_live_idx ON jobs (singleton_key) WHERE status IN ('queued', 'running');
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO boka_app;

-- Purges what has expired by its own rules, at most `batch` rows per kind per call. SECURITY
-- DEFINER because tenant tables (invitations, reservations) are behind FORCE ROW LEVEL SECURITY
-- and the purge spans tenants; it takes no tenant input and only deletes or expires rows whose
-- own expiry has passed, so it widens nothing a caller could choose.
CREATE FUNCTION boka_purge_expired(p_at timestamptz, p_batch integer)
  RETURNS TABLE (kind text, purged integer) LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public AS $$
DECLARE
  n integer;
BEGIN
  IF p_batch IS NULL OR p_batch < 1 OR p_batch > 10000 THEN RAISE EXCEPTION 'batch out of range'; END IF;
  -- Refresh tokens go with their session (ON DELETE CASCADE).
  DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= p_at LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'sessions'; purged := n; RETURN NEXT;
  DELETE FROM mfa_challenges WHERE id IN (SELECT id FROM mfa_challenges WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'mfa_challenges'; purged := n; RETURN NEXT;
  DELETE FROM password_resets WHERE id IN (SELECT id FROM password_resets WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'password_resets'; purged := n; RETURN NEXT;
  DELETE FROM email_verifications WHERE id IN (SELECT id FROM email_verifications WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'email_verifications'; purged := n; RETURN NEXT;
  DELETE FROM email_changes WHERE id IN (SELECT id FROM email_changes WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'email_changes'; purged := n; RETURN NEXT;
  DELETE FROM webauthn_challenges WHERE id IN (SELECT id FROM webauthn_challenges WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'webauthn_challenges'; purged := n; RETURN NEXT;
  DELETE FROM oidc_flows WHERE id IN (SELECT id FROM oidc_flows WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'oidc_flows'; purged := n; RETURN NEXT;
  DELETE FROM oidc_login_codes WHERE id IN (SELECT id FROM oidc_login_codes WHERE expires_at <= p_at OR used_at IS NOT NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'oidc_login_codes'; purged := n; RETURN NEXT;
  -- Expired, never-accepted invitations; accepted or revoked ones stay as the tenant's history.
  DELETE FROM invitations WHERE id IN (SELECT id FROM invitations WHERE expires_at <= p_at AND accepted_at IS NULL AND revoked_at IS NULL LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'invitations'; purged := n; RETURN NEXT;
  DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT i.scope, i.key FROM idempotency_keys i WHERE i.expires_at <= p_at LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'idempotency_keys'; purged := n; RETURN NEXT;
  -- A lapsed guest hold is already free for availability (ADR 0018); this only records it as
  -- cancelled, the same transition the booking path makes when it needs the slot.
  UPDATE reservations SET status = 'cancelled', updated_at = now()
   WHERE id IN (SELECT id FROM reservations WHERE status = 'pending' AND hold_expires_at IS NOT NULL AND hold_expires_at <= p_at LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'lapsed_holds'; purged := n; RETURN NEXT;
  DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN ('done', 'failed') AND finished_at <= p_at - interval '7 days' LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'finished_jobs'; purged := n; RETURN NEXT;
  -- The webhook delivery log (below) keeps 30 days.
  DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE created_at <= p_at - interval '30 days' LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'webhook_deliveries'; purged := n; RETURN NEXT;
END $$;
REVOKE ALL ON FUNCTION boka_purge_expired(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION boka_purge_expired(timestamptz, integer) TO boka_app;

-- Booking webhooks (ADR 0023). The signing secret must be usable to sign (Standard Webhooks,
-- HMAC-SHA256), so it is stored AES-256-GCM encrypted with BOKA_SECRET_KEY, like signing keys
-- and MFA secrets; only its short prefix is shown again.
CREATE TABLE webhook_endpoints (
  id                   uuid PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url                  text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
  events               text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 5),
  secret_enc           text NOT NULL,
  secret_prefix        text NOT NULL CHECK (length(secret_prefix) <= 20),
  enabled              boolean NOT NULL DEFAULT true,
  disabled_reason      text CHECK (length(disabled_reason) <= 200),
  consecutive_failures integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id);
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_tenant_scope ON webhook_endpoints
  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO boka_app;

-- The delivery log: one row per attempt. No request or response bodies (nothing secret).
CREATE TABLE webhook_deliveries (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  message_id      text NOT NULL CHECK (length(message_id) <= 64),
  event           text NOT NULL CHECK (length(event) <= 64),
  attempt         integer NOT NULL CHECK (attempt >= 1),
  outcome         text NOT NULL CHECK (outcome IN ('delivered', 'failed')),
  status_code     integer,
  error           text CHECK (length(error) <= 200),
  duration_ms     integer NOT NULL,
  next_attempt_at timestamptz,
  created_at      timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_tenant_scope ON webhook_deliveries
  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_deliveries TO boka_app;
