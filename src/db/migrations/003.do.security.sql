-- Security layer: API keys, TOTP MFA + backup codes, MFA login challenges, password resets,
-- the tenant MFA policy, and the append-only, hash-chained audit log.

-- API keys belong to one tenant. Only SHA-256(secret) is stored (256-bit random secret,
-- ASVS 2.9.2 / 6.4.1). Authentication looks a key up by id before any tenant is known, so the
-- policy also admits the one row named by `app.api_key_id` (set per transaction).
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL,
  prefix       text NOT NULL,
  secret_hash  bytea NOT NULL,
  permissions  text[] NOT NULL,
  created_by   uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_scope ON api_keys
  USING (tenant_id = app_tenant_id() OR id = NULLIF(current_setting('app.api_key_id', true), '')::uuid)
  WITH CHECK (tenant_id = app_tenant_id());

-- TOTP (RFC 6238). The shared secret is AES-256-GCM encrypted with BOKA_SECRET_KEY (it must be
-- recoverable to compute codes, so it cannot be hashed; ASVS 2.8.3 / 6.2.1). last_step records
-- the last accepted time step so a code is accepted only once (ASVS 2.8.4).
CREATE TABLE user_mfa (
  user_id     uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret_enc  text NOT NULL,
  enabled_at  timestamptz,
  last_step   bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Backup (look-up secret) codes: 112 random bits each (ASVS 2.6.2), stored as SHA-256.
CREATE TABLE mfa_backup_codes (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash  bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz
);
CREATE INDEX mfa_backup_codes_user_idx ON mfa_backup_codes (user_id);

-- Password verified, second factor pending. `mfa_<id>.<secret>`, SHA-256 stored, short-lived.
CREATE TABLE mfa_challenges (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  secret_hash bytea NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

-- One-time password reset tokens (ASVS 2.5.1 / 2.3.1): `pr_<id>.<secret>`, SHA-256 stored.
CREATE TABLE password_resets (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  secret_hash bytea NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- Tenant security policy: which roles must have MFA for tenant administration (ASVS 4.3.1).
CREATE TABLE tenant_security_policies (
  tenant_id       uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  require_mfa_for text[] NOT NULL DEFAULT '{}',
  updated_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenant_security_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_security_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_security_policies_scope ON tenant_security_policies
  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- Audit log: one hash chain per tenant (tenant_id) plus one platform chain (tenant_id NULL).
-- hash = SHA-256(prev_hash || canonical record); seq numbers each chain from 1 and the unique
-- index means two writers can never both append seq n (the writer also takes an advisory
-- transaction lock per chain). No FK to tenants: the trail outlives a deleted tenant.
CREATE TABLE audit_log (
  id          uuid PRIMARY KEY,
  tenant_id   uuid,
  seq         bigint NOT NULL,
  at          timestamptz NOT NULL,
  actor_type  text NOT NULL,
  actor_id    text,
  action      text NOT NULL,
  target      text,
  outcome     text NOT NULL,
  ip          text,
  user_agent  text,
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}',
  prev_hash   bytea NOT NULL,
  hash        bytea NOT NULL
);
CREATE UNIQUE INDEX audit_log_chain_seq_idx ON audit_log (COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), seq);
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
-- A tenant's rows inside that tenant's context; platform rows only outside any tenant context.
CREATE POLICY audit_log_scope ON audit_log
  USING (tenant_id IS NOT DISTINCT FROM app_tenant_id())
  WITH CHECK (tenant_id IS NOT DISTINCT FROM app_tenant_id());

-- The verifier must enumerate chains without a tenant context; this reveals only chain ids.
CREATE FUNCTION audit_chain_tenants() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public AS
  $$ SELECT DISTINCT tenant_id FROM audit_log WHERE tenant_id IS NOT NULL ORDER BY 1 $$;
REVOKE ALL ON FUNCTION audit_chain_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain_tenants() TO boka_app;

GRANT SELECT, INSERT, UPDATE ON api_keys TO boka_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_mfa, mfa_backup_codes, mfa_challenges, password_resets TO boka_app;
GRANT SELECT, INSERT, UPDATE ON tenant_security_policies TO boka_app;
-- Append-only for the application (ASVS 7.3.3): no UPDATE, no DELETE, no TRUNCATE.
GRANT SELECT, INSERT ON audit_log TO boka_app;
