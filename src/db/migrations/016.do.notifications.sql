-- phase: expand
-- Booking mail with .ics attachments, reminders and iCal feeds (issue 17, docs/booking.md).
-- Expand only: defaulted / nullable columns, a trigger and a new table; release N-1 ignores them.

-- Reminder lead time per tenant (0 = no reminders); at most a week.
ALTER TABLE tenant_settings ADD COLUMN reminder_lead_minutes integer NOT NULL DEFAULT 1440
  CHECK (reminder_lead_minutes BETWEEN 0 AND 10080);

-- A reminder is sent at most once per reservation: the sender claims the row by setting this.
ALTER TABLE reservations ADD COLUMN reminder_sent_at timestamptz;

-- iCalendar SEQUENCE (RFC 5545 §3.8.7.4): bumped by the database whenever the time or status
-- changes, so every writer (this release, N-1, a manual fix) keeps calendar clients in step.
ALTER TABLE reservations ADD COLUMN ical_sequence integer NOT NULL DEFAULT 0;
CREATE FUNCTION reservations_bump_ical_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.starts_at IS DISTINCT FROM OLD.starts_at OR NEW.ends_at IS DISTINCT FROM OLD.ends_at
     OR NEW.status IS DISTINCT FROM OLD.status THEN
    NEW.ical_sequence := OLD.ical_sequence + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER reservations_ical_sequence BEFORE UPDATE ON reservations
  FOR EACH ROW EXECUTE FUNCTION reservations_bump_ical_sequence();

-- Reminders due across tenants: only (tenant, reservation) pairs leave the definer's rights;
-- the sender then reads and claims each one under withTenant, so RLS still guards the data.
CREATE INDEX reservations_reminder_due_idx ON reservations (starts_at) WHERE reminder_sent_at IS NULL;
CREATE FUNCTION due_reminders(at timestamptz, max_rows integer)
  RETURNS TABLE (tenant_id uuid, reservation_id uuid) LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public AS $$
    SELECT r.tenant_id, r.id FROM reservations r
      JOIN tenant_settings ts ON ts.tenant_id = r.tenant_id
     WHERE r.reminder_sent_at IS NULL AND r.status = 'confirmed' AND ts.reminder_lead_minutes > 0
       AND r.starts_at > at AND r.starts_at <= at + make_interval(mins => ts.reminder_lead_minutes)
     ORDER BY r.starts_at, r.id LIMIT LEAST(GREATEST(max_rows, 0), 1000) $$;
REVOKE ALL ON FUNCTION due_reminders(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION due_reminders(timestamptz, integer) TO boka_app;

-- iCal feed tokens: `cal_<id>.<secret>`, only SHA-256(secret) stored (ASVS 3.5.2, 2.9.2). One
-- live feed per owner (a staff member or a customer record); rotating revokes the old one.
CREATE TABLE calendar_feeds (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  owner_kind  text NOT NULL CHECK (owner_kind IN ('staff', 'customer')),
  owner_id    uuid NOT NULL,
  secret_hash bytea NOT NULL,
  created_by  uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE UNIQUE INDEX calendar_feeds_live_owner_idx ON calendar_feeds (tenant_id, owner_kind, owner_id) WHERE revoked_at IS NULL;
ALTER TABLE calendar_feeds ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_feeds FORCE ROW LEVEL SECURITY;
CREATE POLICY calendar_feeds_tenant_scope ON calendar_feeds
  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- Fetching a feed happens outside any tenant: a transaction that sets app.calendar_feed_id may
-- read that one row (its secret is still verified against the hash), like manage_links_by_id.
CREATE POLICY calendar_feeds_by_id ON calendar_feeds FOR SELECT
  USING (id = NULLIF(current_setting('app.calendar_feed_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_feeds TO boka_app;
