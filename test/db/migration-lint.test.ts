import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadMigrations } from '../../src/db/index.js';
import { lintMigration, type LintRule } from '../../src/db/migration-lint.js';

/**
 * The expand/contract check that runs in `npm test` (ADR 0010): every shipped migration declares
 * a phase, and no `expand` migration contains a statement the previous release would break on.
 */
describe('shipped migrations', () => {
  test('each declares its phase and every expand migration passes the check', async () => {
    const shipped = loadMigrations();
    assert.ok(shipped.length >= 6);
    for (const m of shipped) {
      assert.ok(m.phase, `${m.name}: first line must be \`-- phase: expand\` or \`-- phase: contract\``);
      assert.deepEqual(await lintMigration(m.sql, m.phase), [], `${m.name} is declared ${m.phase}`);
    }
  });

  test('an undeclared migration is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'boka-lint-'));
    try {
      writeFileSync(join(dir, '007.do.no-header.sql'), 'CREATE TABLE t (id int);\n');
      assert.equal(loadMigrations(dir)[0]?.phase, undefined);
      writeFileSync(join(dir, '008.do.typo.sql'), '-- phase: expnad\nCREATE TABLE u (id int);\n');
      assert.throws(() => loadMigrations(dir), /unknown phase "expnad"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const EXISTING = 'users';
const cases: Array<[string, string, LintRule[]]> = [
  ['drop table', 'DROP TABLE legacy;', ['drop']],
  ['drop index', 'DROP INDEX IF EXISTS sessions_user_live_idx;', ['drop']],
  ['drop policy', `DROP POLICY tenants_scope ON tenants;`, ['drop']],
  ['drop function', 'DROP FUNCTION app_user_id();', ['drop']],
  ['drop column', `ALTER TABLE ${EXISTING} DROP COLUMN name;`, ['drop']],
  ['drop constraint', `ALTER TABLE ${EXISTING} DROP CONSTRAINT users_pkey;`, ['drop']],
  ['rename column', `ALTER TABLE ${EXISTING} RENAME COLUMN name TO full_name;`, ['rename']],
  ['rename table', `ALTER TABLE ${EXISTING} RENAME TO accounts;`, ['rename']],
  ['rename enum value', `ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';`, ['rename']],
  ['alter type', `ALTER TABLE ${EXISTING} ALTER COLUMN name TYPE varchar(20);`, ['alter-type']],
  ['alter type (SET DATA TYPE)', `ALTER TABLE ${EXISTING} ALTER name SET DATA TYPE varchar(20) USING name::varchar(20);`, ['alter-type']],
  ['set not null', `ALTER TABLE ${EXISTING} ALTER COLUMN name SET NOT NULL;`, ['set-not-null']],
  ['add NOT NULL column without default', `ALTER TABLE ${EXISTING} ADD COLUMN nickname text NOT NULL;`, ['add-not-null-without-default']],
  ['drop default', `ALTER TABLE ${EXISTING} ALTER COLUMN synthetic DROP DEFAULT;`, ['drop-default']],
  ['truncate', 'TRUNCATE sessions;', ['truncate']],
  ['delete everything', 'DELETE FROM sessions;', ['delete-all']],
  ['check constraint', `ALTER TABLE ${EXISTING} ADD CONSTRAINT name_len CHECK (length(name) < 50);`, ['narrowing-constraint']],
  ['check constraint NOT VALID', `ALTER TABLE ${EXISTING} ADD CONSTRAINT name_len CHECK (length(name) < 50) NOT VALID;`, ['narrowing-constraint']],
  ['foreign key', `ALTER TABLE sessions ADD FOREIGN KEY (user_id) REFERENCES users(id);`, ['narrowing-constraint']],
  ['unique index', `CREATE UNIQUE INDEX users_name_uq ON ${EXISTING} (name);`, ['unique-index']],
  ['row-level security', `ALTER TABLE ${EXISTING} ENABLE ROW LEVEL SECURITY;`, ['enable-rls']],
  ['restrictive policy', `CREATE POLICY only_mine ON ${EXISTING} AS RESTRICTIVE USING (id = app_user_id());`, ['restrictive-policy']],
  ['revoke', `REVOKE UPDATE ON ${EXISTING} FROM boka_app;`, ['revoke']],
  ['DROP hidden in a DO block', `DO $$ BEGIN DROP TABLE legacy; END $$;`, ['do-block']],
  ['several at once, mixed case and comments', `-- harmless\nalter table ${EXISTING}\n  drop column name,  -- gone\n  alter column email type citext;`, ['drop', 'alter-type']],
];

describe('destructive statements in an expand migration', () => {
  for (const [name, sql, rules] of cases) {
    test(`flags ${name}`, async () => {
      const findings = await lintMigration(`-- phase: expand\n${sql}\n`, 'expand');
      assert.deepEqual(findings.map((f) => f.rule), rules, JSON.stringify(findings));
      // The same statements are what a contract migration is for.
      assert.deepEqual(await lintMigration(sql, 'contract'), []);
    });
  }

  test('reports the line of the offending statement', async () => {
    const findings = await lintMigration('-- phase: expand\nCREATE TABLE a (id int);\n\n-- why\nDROP TABLE b;\n', 'expand');
    assert.deepEqual(findings.map((f) => [f.rule, f.line]), [['drop', 5]]);
  });

  test('additive statements pass, including ones that look destructive to a text search', async () => {
    const sql = `-- phase: expand
-- DROP TABLE users; RENAME; TRUNCATE (only a comment)
/* ALTER TABLE users DROP COLUMN name */
CREATE TABLE notes (id uuid PRIMARY KEY, body text NOT NULL, CONSTRAINT body_len CHECK (length(body) < 1000));
CREATE UNIQUE INDEX notes_body_uq ON notes (body);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes ADD CONSTRAINT body_nonempty CHECK (body <> '');
ALTER TABLE users ADD COLUMN nickname text;
ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT 'free';
ALTER TABLE users ADD COLUMN flagged boolean DEFAULT false;
ALTER TABLE users ALTER COLUMN flagged SET NOT NULL;
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
CREATE INDEX users_nickname_idx ON users (nickname);
COMMENT ON COLUMN users.nickname IS 'DROP TABLE users; rename later';
INSERT INTO notes (id, body) VALUES (gen_random_uuid(), 'TRUNCATE sessions');
UPDATE users SET nickname = name WHERE nickname IS NULL;
DELETE FROM sessions WHERE expires_at < now();
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM notes $$;
REVOKE ALL ON FUNCTION note_count() FROM PUBLIC;
DO $$ BEGIN EXECUTE format('GRANT SELECT ON %I TO boka_app', 'notes'); RAISE NOTICE 'drop nothing'; END $$;
GRANT SELECT, INSERT ON notes TO boka_app;
`;
    assert.deepEqual(await lintMigration(sql, 'expand'), []);
  });

  test('an unparsable migration is an error, not a pass', async () => {
    await assert.rejects(lintMigration('-- phase: expand\nCREATE TABLE (;\n', 'expand'), /syntax error/);
  });
});
