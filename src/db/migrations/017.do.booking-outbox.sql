-- phase: expand
-- Transactional outbox for booking effects (ADR 0024). Expand only: one new function, and the
-- purge function of migration 014 replaced by the same signature without its lapsed-hold step.

-- Lapsed guest holds across tenants, ids only (like due_reminders of migration 016): the cleanup
-- job then cancels each tenant's holds under withTenant, in the transaction that also writes the
-- `reservation.cancelled` webhook messages, so RLS still guards the write.
CREATE FUNCTION lapsed_holds(at timestamptz, max_rows integer)
  RETURNS TABLE (tenant_id uuid, reservation_id uuid) LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public AS $$
    SELECT r.tenant_id, r.id FROM reservations r
     WHERE r.status = 'pending' AND r.hold_expires_at IS NOT NULL AND r.hold_expires_at <= at
     ORDER BY r.hold_expires_at, r.id LIMIT LEAST(GREATEST(max_rows, 0), 10000) $$;
REVOKE ALL ON FUNCTION lapsed_holds(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lapsed_holds(timestamptz, integer) TO boka_app;

-- The purge no longer cancels lapsed holds: a cancellation made here could not write its
-- webhook messages. Release N-1 calling this keeps purging everything else; its lapsed holds are
-- already free for availability and refused by their links (ADR 0018), and the next release's
-- cleanup (or the booking that needs the slot) records them cancelled with their effects.
CREATE OR REPLACE FUNCTION boka_purge_expired(p_at timestamptz, p_batch integer)
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
  DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN ('done', 'failed') AND finished_at <= p_at - interval '7 days' LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'finished_jobs'; purged := n; RETURN NEXT;
  -- The webhook delivery log (below) keeps 30 days.
  DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE created_at <= p_at - interval '30 days' LIMIT p_batch);
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'webhook_deliveries'; purged := n; RETURN NEXT;
END $$;
