-- The deep health check's synthetic identities (src/ops/probe.repo.ts PROBE) exist from the
-- first migration on, so no client can take their email or slugs first and keep
-- /api/health/deep failing. The password hash is a placeholder that never
-- verifies; each instance sets the real (derived) one before its first check.

-- A database migrated before this file may already hold a squatter: such a user or tenant gives
-- the reserved name back. `.invalid` (RFC 2606) receives no mail, so no real person owns it.
UPDATE users SET email = 'released-' || id || '@boka.invalid', email_normalized = 'released-' || id || '@boka.invalid'
  WHERE email_normalized = 'health-probe@boka.invalid' AND id <> '00000000-0000-4000-8000-0000b0ca0001';

INSERT INTO users (id, email, email_normalized, name, password_hash, synthetic)
  VALUES ('00000000-0000-4000-8000-0000b0ca0001', 'health-probe@boka.invalid', 'health-probe@boka.invalid', 'Health probe', '!', true)
  ON CONFLICT (id) DO UPDATE SET synthetic = true;

-- tenants and memberships FORCE row-level security; scope this transaction to each probe tenant.
SELECT set_config('app.tenant_id', '00000000-0000-4000-8000-0000b0ca00a1', true);
UPDATE tenants SET slug = slug || '-' || substr(replace(id::text, '-', ''), 1, 12)
  WHERE slug = 'boka-health-probe-a' AND id <> '00000000-0000-4000-8000-0000b0ca00a1';
INSERT INTO tenants (id, name, slug, synthetic)
  VALUES ('00000000-0000-4000-8000-0000b0ca00a1', 'boka-health-probe-a', 'boka-health-probe-a', true)
  ON CONFLICT (id) DO NOTHING;
INSERT INTO memberships (tenant_id, user_id, role)
  VALUES ('00000000-0000-4000-8000-0000b0ca00a1', '00000000-0000-4000-8000-0000b0ca0001', 'owner')
  ON CONFLICT DO NOTHING;

SELECT set_config('app.tenant_id', '00000000-0000-4000-8000-0000b0ca00b1', true);
UPDATE tenants SET slug = slug || '-' || substr(replace(id::text, '-', ''), 1, 12)
  WHERE slug = 'boka-health-probe-b' AND id <> '00000000-0000-4000-8000-0000b0ca00b1';
INSERT INTO tenants (id, name, slug, synthetic)
  VALUES ('00000000-0000-4000-8000-0000b0ca00b1', 'boka-health-probe-b', 'boka-health-probe-b', true)
  ON CONFLICT (id) DO NOTHING;

SELECT set_config('app.tenant_id', '', true);
