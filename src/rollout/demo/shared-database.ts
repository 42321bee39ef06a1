import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { APP_ROLE } from '../../db/index.js';

/**
 * ONE database for blue and green (demo and end-to-end tests only): a scratch database on the
 * PostgreSQL server named by `serverUrl`, or an in-memory PGlite served over the PostgreSQL wire
 * protocol on 127.0.0.1 (`@electric-sql/pglite-socket`).
 *
 * PGlite has a single backend session: the socket server multiplexes client connections onto
 * it and keeps a transaction on the connection that opened it. Session state (`SET ROLE`, the
 * `-c role=` startup option) is therefore shared by every client, so the instances should use
 * `poolMax` (1) connections each; `kind` tells callers which one they got.
 */
export interface SharedDatabase {
  readonly kind: 'postgres' | 'pglite-socket';
  /** DATABASE_URL for the Boka instances. */
  readonly url: string;
  /** DATABASE_POOL_MAX for the Boka instances. */
  readonly poolMax: number;
  /**
   * DATABASE_PREPARED_STATEMENTS for the Boka instances: off on the socket server, where every
   * client shares the one backend session and so its prepared-statement names.
   */
  readonly preparedStatements: boolean;
  /**
   * Call once every instance has started (and so migrated). PGlite ignores the `-c role=`
   * startup option the app's pool sends, so the shared session would stay superuser and
   * row-level security would not apply; this switches the one session to the app role, as
   * the embedded adapter does in process. A no-op on the server.
   */
  dropToAppRole(): Promise<void>;
  close(): Promise<void>;
}

export async function startSharedDatabase(serverUrl: string | undefined): Promise<SharedDatabase> {
  if (serverUrl) return createScratchDatabase(serverUrl);
  const db = await PGlite.create({ extensions: { btree_gist } });
  // Each Boka instance opens a migration connection and then its pool: a few connections at once.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const conn = server.getServerConn();
  return {
    kind: 'pglite-socket',
    url: `postgres://postgres:postgres@${conn}/postgres?sslmode=disable`,
    poolMax: 1,
    preparedStatements: false,
    async dropToAppRole() {
      await db.exec(`SET ROLE ${APP_ROLE}`);
    },
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

async function createScratchDatabase(serverUrl: string): Promise<SharedDatabase> {
  const name = `boka_rollout_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    poolMax: 5,
    preparedStatements: true,
    async dropToAppRole() {},
    async close() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
