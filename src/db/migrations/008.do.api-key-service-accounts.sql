-- phase: expand
-- API keys become service principals of their tenant (docs/adr/0017-api-keys-as-service-accounts.md).
-- Expand only: every column is nullable, so the previous release keeps reading and inserting
-- keys as before; a key whose `role_ceiling` is NULL (created before this migration, or by the
-- previous release during a rollout) keeps the old rule: its own permissions ∩ its creator's
-- current role.
--
-- role_ceiling           the highest tenant role the key may ever act with; chosen at creation,
--                        never above the creator's role then; independent of the creator later.
-- rate_limit_per_minute  the key's own request budget (NULL: the per-principal default); the
--                        application caps it at RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE.
-- previous_secret_hash   after a rotation, SHA-256 of the replaced secret, accepted until
-- previous_valid_until   (exclusive). Revocation (revoked_at) ends both secrets at once.
-- rotated_at/rotated_by  the last rotation and the member who made it (audit names them too).
ALTER TABLE api_keys ADD COLUMN role_ceiling text
  CHECK (role_ceiling IN ('owner', 'manager', 'staff', 'customer', 'guest'));
ALTER TABLE api_keys ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0);
ALTER TABLE api_keys ADD COLUMN previous_secret_hash bytea;
ALTER TABLE api_keys ADD COLUMN previous_valid_until timestamptz;
ALTER TABLE api_keys ADD COLUMN rotated_at timestamptz;
ALTER TABLE api_keys ADD COLUMN rotated_by uuid REFERENCES users(id) ON DELETE SET NULL;

-- Backfill: a live key whose creator is still a member gets the creator's current role as its
-- ceiling, so it keeps exactly the permissions it has today and survives the creator's later
-- departure. Keys of creators who already left stay NULL (dead under the old rule, as before).
-- The UPDATE runs under FORCE ROW LEVEL SECURITY: a login without BYPASSRLS sees no rows here,
-- and those keys keep the old rule until they are rotated, which gives them a ceiling (ADR 0017).
UPDATE api_keys k SET role_ceiling = m.role
  FROM memberships m
  WHERE m.tenant_id = k.tenant_id AND m.user_id = k.created_by
    AND k.role_ceiling IS NULL AND k.revoked_at IS NULL;
