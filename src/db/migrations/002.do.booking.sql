-- Booking domain: settings, services, staff (+ services performed, weekly hours, time off),
-- customers, reservations, invitations. Every table carries tenant_id and a row-level security
-- policy on app_tenant_id(): the second guard behind the tenantId argument of every repo call.
-- Times are timestamptz (UTC on the wire); weekly hours are local minutes-of-day in the
-- tenant's IANA time zone.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE tenant_settings (
  tenant_id                   uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  timezone                    text NOT NULL DEFAULT 'UTC',
  currency                    text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
  lead_time_minutes           integer NOT NULL DEFAULT 0 CHECK (lead_time_minutes BETWEEN 0 AND 525600),
  cancellation_cutoff_minutes integer NOT NULL DEFAULT 0 CHECK (cancellation_cutoff_minutes BETWEEN 0 AND 525600),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
  buffer_minutes   integer NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 1440),
  price_cents      bigint NOT NULL CHECK (price_cents BETWEEN 0 AND 100000000000),
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);

CREATE TABLE staff (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  display_name text NOT NULL,
  user_id      uuid REFERENCES users(id) ON DELETE SET NULL,
  active       boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, user_id)
);

CREATE TABLE staff_services (
  tenant_id  uuid NOT NULL,
  staff_id   uuid NOT NULL,
  service_id uuid NOT NULL,
  PRIMARY KEY (staff_id, service_id),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff(tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, service_id) REFERENCES services(tenant_id, id) ON DELETE CASCADE
);

-- Weekly hours: weekday 0 = Sunday; minutes since local midnight. Overlapping intervals of one
-- staff member on one weekday are refused by the database too (the API checks first).
CREATE TABLE staff_hours (
  tenant_id    uuid NOT NULL,
  staff_id     uuid NOT NULL,
  weekday      smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  start_minute integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
  end_minute   integer NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
  CHECK (start_minute < end_minute),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff(tenant_id, id) ON DELETE CASCADE,
  EXCLUDE USING gist (staff_id WITH =, weekday WITH =, int4range(start_minute, end_minute) WITH &&)
);

CREATE TABLE time_off (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL,
  staff_id   uuid NOT NULL,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX time_off_staff_idx ON time_off (staff_id, starts_at);

CREATE TABLE customers (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  email            text NOT NULL,
  email_normalized text NOT NULL,
  phone            text,
  user_id          uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, email_normalized),
  UNIQUE (tenant_id, user_id)
);

-- No double booking, guaranteed by the database: two active reservations of one staff member
-- may not overlap, buffer included. blocked_until = ends_at + the service's buffer, stored
-- because timestamptz + interval is not immutable and so cannot appear in the constraint.
CREATE TABLE reservations (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL,
  service_id    uuid NOT NULL,
  staff_id      uuid NOT NULL,
  customer_id   uuid NOT NULL,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL,
  blocked_until timestamptz NOT NULL,
  status        text NOT NULL CHECK (status IN ('pending', 'confirmed', 'completed', 'no_show', 'cancelled')),
  notes         text,
  created_by    uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at AND ends_at <= blocked_until),
  FOREIGN KEY (tenant_id, service_id) REFERENCES services(tenant_id, id),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff(tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id),
  CONSTRAINT reservations_no_overlap EXCLUDE USING gist (
    staff_id WITH =,
    tstzrange(starts_at, blocked_until, '[)') WITH &&
  ) WHERE (status IN ('pending', 'confirmed'))
);
CREATE INDEX reservations_tenant_start_idx ON reservations (tenant_id, starts_at, id);
CREATE INDEX reservations_customer_idx ON reservations (customer_id, starts_at);
CREATE INDEX reservations_service_idx ON reservations (service_id);

-- Invitation tokens are `inv_<id>.<secret>`; only SHA-256(secret) is stored (ASVS 2.9 / 3.5).
CREATE TABLE invitations (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email            text NOT NULL,
  email_normalized text NOT NULL,
  role             text NOT NULL CHECK (role IN ('owner', 'manager', 'staff', 'customer', 'guest')),
  token_hash       bytea NOT NULL,
  invited_by       uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  accepted_at      timestamptz,
  accepted_by      uuid REFERENCES users(id) ON DELETE SET NULL,
  revoked_at       timestamptz
);
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_settings', 'services', 'staff', 'staff_services', 'staff_hours',
                           'time_off', 'customers', 'reservations', 'invitations'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id())',
                   t || '_tenant_scope', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO boka_app', t);
  END LOOP;
END $$;

-- Public booking resolves a slug without any membership. Rather than widen tenants_scope, a
-- transaction that sets app.public_slug may read exactly that one tenant row (id, name and
-- slug are public by design); everything after runs under withTenant as usual.
CREATE POLICY tenants_public_slug ON tenants FOR SELECT
  USING (slug = NULLIF(current_setting('app.public_slug', true), ''));

-- Accepting an invitation happens outside any tenant: a transaction that sets
-- app.invitation_id may read that one invitation (its secret is still verified against the hash).
CREATE POLICY invitations_by_id ON invitations FOR SELECT
  USING (id = NULLIF(current_setting('app.invitation_id', true), '')::uuid);
