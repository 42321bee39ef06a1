import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { createTenant, signUp } from '../helpers/app.js';
import { onServer } from '../helpers/database.js';

/**
 * The documented production login (docs/security.md, "PostgreSQL roles"): a role that owns its
 * database and nothing else — not superuser, no BYPASSRLS, no CREATEDB — with CREATEROLE only
 * for the first migration (001 creates `boka_app` and joins it), revoked afterwards. Boka must
 * migrate, serve, and still be bound by row-level security (ASVS 4.0.3 1.4.3, 4.1.3: least
 * privilege; RLS is the second guard, which a superuser login would silently bypass).
 */
describe('least-privilege PostgreSQL login', { skip: onServer ? false : 'needs DATABASE_URL' }, () => {
  const suffix = randomBytes(5).toString('hex');
  const login = `boka_login_${suffix}`;
  const database = `boka_lp_${suffix}`;
  let admin: pg.Client;
  let url: string;
  const opened: Database[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE ROLE ${login} LOGIN NOSUPERUSER NOCREATEDB NOBYPASSRLS CREATEROLE`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${login}`);
    const u = new URL(process.env.DATABASE_URL!);
    u.username = login;
    u.pathname = `/${database}`;
    url = u.toString();
  });

  after(async () => {
    for (const db of opened) await db.close().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${login}`);
    await admin.end();
  });

  test('migrates, then serves with CREATEROLE revoked, as boka_app under RLS', async () => {
    opened.push(await openDatabase({ databaseUrl: url, dataDir: 'memory', databasePoolMax: 2 }));
    // Only migration 001 needs CREATEROLE; every later start runs without it.
    await admin.query(`ALTER ROLE ${login} NOCREATEROLE`);
    const db = await openDatabase({ databaseUrl: url, dataDir: 'memory', databasePoolMax: 2 });
    opened.push(db);

    const who = await db.query<{ user: string; superuser: boolean; bypass: boolean }>(
      `SELECT current_user AS user, r.rolsuper AS superuser, r.rolbypassrls AS bypass
         FROM pg_roles r WHERE r.rolname = session_user`,
    );
    assert.deepEqual(who.rows[0], { user: 'boka_app', superuser: false, bypass: false });

    const config = loadConfig({ NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') }, { databaseUrl: url });
    const app = await buildApp(config, { db });
    try {
      const owner = await signUp(app, 'lp-owner');
      const tenant = await createTenant(app, owner);
      const read = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { authorization: `Bearer ${owner.accessToken}` } });
      assert.equal(read.statusCode, 200);
      // The tenant row exists, yet without a tenant scope the application role sees none of it.
      const unscoped = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants WHERE id = $1', [tenant.id]);
      assert.equal(unscoped.rows[0]!.n, 0);
    } finally {
      await app.close();
    }
  });

  test('the login cannot create or drop roles once CREATEROLE is revoked', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await assert.rejects(c.query(`CREATE ROLE boka_not_${suffix}`), (err: { code?: string }) => err.code === '42501');
    } finally {
      await c.end();
    }
  });
});
