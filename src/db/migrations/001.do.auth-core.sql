-- Auth core: users, sessions, refresh tokens, signing keys, tenants, memberships.
-- The application connects as (or switches to) the non-superuser role boka_app, so the
-- row-level security policies below apply to it. Superusers bypass RLS.

DO $$
BEGIN
  CREATE ROLE boka_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- the role is cluster-wide; another database on this server already created it
END $$;
GRANT boka_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO boka_app;
GRANT SELECT ON boka_schema_version TO boka_app;

-- Per-transaction settings read by RLS policies (set with set_config(..., true)).
CREATE FUNCTION app_tenant_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE users (
  id              uuid PRIMARY KEY,
  email           text NOT NULL,
  email_normalized text NOT NULL UNIQUE,
  name            text NOT NULL,
  password_hash   text NOT NULL,
  is_superadmin   boolean NOT NULL DEFAULT false,
  synthetic       boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text,
  ip             text,
  user_agent     text
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are `<id>.<secret>`; only SHA-256(secret) is stored (high-entropy secret,
-- so a fast hash is sufficient: ASVS 2.9 / 3.5). used_at marks rotation; presenting a
-- used token again is reuse and revokes the session.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY,
  session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  secret_hash bytea NOT NULL,
  created_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Access-token signing keys. The private JWK is AES-256-GCM encrypted with BOKA_SECRET_KEY.
CREATE TABLE signing_keys (
  kid             text PRIMARY KEY,
  alg             text NOT NULL,
  public_jwk      jsonb NOT NULL,
  private_jwk_enc text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  retired_at      timestamptz
);

CREATE TABLE tenants (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  slug       text NOT NULL UNIQUE,
  synthetic  boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'manager', 'staff', 'customer', 'guest')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Second guard (the first is the tenantId argument of every repository function).
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_scope ON tenants
  USING (id = app_tenant_id()
         OR id IN (SELECT m.tenant_id FROM memberships m WHERE m.user_id = app_user_id()));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_scope ON memberships
  USING (tenant_id = app_tenant_id() OR user_id = app_user_id())
  WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON users, sessions, refresh_tokens, tenants, memberships TO boka_app;
GRANT SELECT, INSERT, UPDATE ON signing_keys TO boka_app;
