-- How each session was authenticated (RFC 8176 `amr` values: 'pwd', 'otp'), so the tenant MFA
-- policy can tell a password-only session from one that proved a second factor. Sessions opened
-- before this migration count as password-only: fail closed.
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT ARRAY['pwd']::text[];
