-- phase: expand
-- The instance registry (docs/adr/0010-expand-contract-migrations.md): every running Boka
-- process registers here, heartbeats, and deregisters on graceful shutdown, so `boka db migrate`
-- can refuse a contract migration while an instance whose build predates it is still alive.
-- Platform data, no tenant rows: no row-level security. The application may insert its own row,
-- touch its heartbeat, prune rows long dead and delete its row; it never reads the others'
-- version or host (docs/security.md, "PostgreSQL roles").
CREATE TABLE boka_instances (
  id                  uuid PRIMARY KEY,
  version             text NOT NULL,
  schema_level        integer NOT NULL CHECK (schema_level >= 0),
  host                text NOT NULL DEFAULT '',
  started_at          timestamptz NOT NULL DEFAULT now(),
  last_seen_at        timestamptz NOT NULL DEFAULT now(),
  stale_after_seconds integer NOT NULL CHECK (stale_after_seconds > 0)
);

GRANT INSERT ON boka_instances TO boka_app;
GRANT SELECT (id, last_seen_at, stale_after_seconds), UPDATE (last_seen_at) ON boka_instances TO boka_app;
GRANT DELETE ON boka_instances TO boka_app;
