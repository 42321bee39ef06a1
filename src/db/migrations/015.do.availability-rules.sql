-- phase: expand
-- Richer availability rules (issue 17, docs/booking.md "Availability rules"). Every new column
-- is nullable or defaulted so the previous release keeps reading and writing as before, and the
-- defaults keep today's behaviour: no buffer before, slot grid = duration, no horizon, no limits.
ALTER TABLE services ADD COLUMN buffer_before_minutes integer NOT NULL DEFAULT 0
  CHECK (buffer_before_minutes BETWEEN 0 AND 1440);
-- NULL = the grid repeats every duration_minutes (today's rule).
ALTER TABLE services ADD COLUMN slot_interval_minutes integer
  CHECK (slot_interval_minutes BETWEEN 5 AND 1440);

-- NULL = no horizon; a booking may start at most this many days after now.
ALTER TABLE tenant_settings ADD COLUMN booking_horizon_days integer
  CHECK (booking_horizon_days BETWEEN 1 AND 3650);
-- NULL = unlimited: active bookings one staff member may have on one local date (tenant zone).
ALTER TABLE tenant_settings ADD COLUMN max_bookings_per_staff_day integer
  CHECK (max_bookings_per_staff_day BETWEEN 1 AND 1000);
-- NULL = unlimited: active (pending or confirmed) future bookings one customer may hold.
ALTER TABLE tenant_settings ADD COLUMN max_future_bookings_per_customer integer
  CHECK (max_future_bookings_per_customer BETWEEN 1 AND 1000);

-- The start of a reservation's footprint: starts_at minus the service's buffer before. NULL (rows
-- written by the previous release) = starts_at. The reservations_no_overlap constraint still
-- guards [starts_at, blocked_until); bookings take a row lock on the staff member, so the
-- pre-check on [blocked_from, blocked_until) runs one at a time per staff member.
ALTER TABLE reservations ADD COLUMN blocked_from timestamptz;

-- Tenant-wide closures (holidays): no staff member is bookable inside [starts_at, ends_at).
CREATE TABLE tenant_closures (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  reason     text CHECK (char_length(reason) <= 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at)
);
CREATE INDEX tenant_closures_tenant_idx ON tenant_closures (tenant_id, starts_at);

-- Per-date hours: when a staff member has any row for a local date, those rows replace the
-- weekly hours on that date (extra or changed hours; time off still removes time).
CREATE TABLE staff_date_hours (
  tenant_id    uuid NOT NULL,
  staff_id     uuid NOT NULL,
  date         date NOT NULL,
  start_minute integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
  end_minute   integer NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
  CHECK (start_minute < end_minute),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff(tenant_id, id) ON DELETE CASCADE,
  EXCLUDE USING gist (staff_id WITH =, date WITH =, int4range(start_minute, end_minute) WITH &&)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_closures', 'staff_date_hours'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id())',
                   t || '_tenant_scope', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO boka_app', t);
  END LOOP;
END $$;
