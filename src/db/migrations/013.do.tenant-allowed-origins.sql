-- phase: expand
-- Per-tenant CORS allow-list for the public booking routes (issue 17, ADR 0014): canonical web
-- origins (RFC 6454 §6.2), checked by the service; the bound here is the second guard. The
-- previous release never reads or writes the column, and its inserts get the empty default.
ALTER TABLE tenant_settings ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(allowed_origins) <= 20);
