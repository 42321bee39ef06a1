import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startSharedDatabase, type SharedDatabase } from '../../src/rollout/demo/shared-database.js';

/**
 * The demo and e2e tests serve ONE embedded PGlite (a single backend session) to two Boka
 * processes over the wire protocol. This checks the multiplexing holds for two real clients:
 * concurrent parameterized (extended protocol) queries never get each other's statements or
 * results, and a transaction on one connection is not interleaved with the other's statements.
 */
describe('shared PGlite over the socket server, two clients', () => {
  let database: SharedDatabase;
  let a: pg.Client;
  let b: pg.Client;
  before(async () => {
    database = await startSharedDatabase(undefined); // always the PGlite socket server, even when DATABASE_URL is set
    a = new pg.Client({ connectionString: database.url });
    b = new pg.Client({ connectionString: database.url });
    await a.connect();
    await b.connect();
  });
  after(async () => {
    await a?.end().catch(() => undefined);
    await b?.end().catch(() => undefined);
    await database?.close();
  });

  it('keeps concurrent parameterized queries apart', async () => {
    let wrong = 0;
    const run = async (client: pg.Client, tag: 'a' | 'b') => {
      for (let i = 0; i < 300; i++) {
        const res =
          tag === 'a'
            ? await client.query<{ v: number; t: string }>('SELECT $1::int + 1 AS v, $2::text AS t', [i, tag])
            : await client.query<{ v: number; t: string }>('SELECT $1::text AS t, $2::int * 2 AS v', [tag, i]);
        const row = res.rows[0];
        if (row?.t !== tag || row.v !== (tag === 'a' ? i + 1 : i * 2)) wrong++;
      }
    };
    await Promise.all([run(a, 'a'), run(b, 'b'), run(a, 'a'), run(b, 'b')]);
    assert.equal(wrong, 0);
  });

  it('runs the other client only outside an open transaction', async () => {
    await a.query('CREATE TABLE mux_check (n int)');
    await a.query('BEGIN');
    await a.query('INSERT INTO mux_check VALUES (1)');
    // b's statement is queued while a's transaction is open, so it sees a's committed row.
    const seen = b.query<{ c: string }>('SELECT count(*)::text AS c FROM mux_check');
    await a.query('INSERT INTO mux_check VALUES (2)');
    await a.query('COMMIT');
    assert.equal((await seen).rows[0]?.c, '2');
  });
});
