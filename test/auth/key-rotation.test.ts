import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAccessTokenService } from '../../src/auth/access-tokens.service.js';
import type { Clock } from '../../src/shared/clock.js';
import { bearer, createTestApp, signUp, type TestContext } from '../helpers/app.js';

/** Signing keys persist in the database and rotate without logging anyone out (RFC 7517 `kid`). */
describe('signing key rotation', () => {
  let ctx: TestContext;
  let nowMs = Date.now();
  const clock: Clock = { now: () => nowMs };
  before(async () => {
    ctx = await createTestApp({ deps: { clock } });
  });
  after(() => ctx.close());

  test('another instance rotates: its new tokens verify here, and old tokens keep working', async () => {
    const user = await signUp(ctx.app, 'rotation');
    const jwksBefore = (await ctx.app.inject({ url: '/.well-known/jwks.json' })).json<{ keys: Array<{ kid: string }> }>();
    assert.equal(jwksBefore.keys.length, 1);

    // A second instance (e.g. `boka keys rotate`) sharing the database and BOKA_SECRET_KEY.
    const other = await createAccessTokenService({
      db: ctx.database.db,
      encryptionKey: Buffer.from(ctx.config.secretKey!, 'base64url'),
      issuer: ctx.config.jwt.issuer,
      audience: ctx.config.jwt.audience,
      ttlSeconds: ctx.config.jwt.accessTtlSeconds,
      clock,
    });
    const newKid = await other.rotate();
    assert.notEqual(newKid, jwksBefore.keys[0]!.kid);
    const fresh = await other.sign({ userId: user.id, sessionId: user.sessionId });

    nowMs += 11_000; // past the unknown-kid reload throttle
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(fresh.token) })).statusCode, 200);
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(user.accessToken) })).statusCode, 200);

    const jwksAfter = (await ctx.app.inject({ url: '/.well-known/jwks.json' })).json<{ keys: Array<{ kid: string }> }>();
    assert.deepEqual(jwksAfter.keys.map((k) => k.kid).sort(), [newKid, jwksBefore.keys[0]!.kid].sort());
    // New logins are signed with the new key.
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } });
    const header = JSON.parse(Buffer.from(login.json<{ accessToken: string }>().accessToken.split('.')[0]!, 'base64url').toString());
    assert.equal(header.kid, newKid);
  });

  test('private keys are stored encrypted, never as a clear JWK', async () => {
    const rows = (await ctx.database.db.query<{ private_jwk_enc: string; public_jwk: Record<string, unknown> }>(
      'SELECT private_jwk_enc, public_jwk FROM signing_keys',
    )).rows;
    for (const row of rows) {
      assert.match(row.private_jwk_enc, /^v1\./);
      assert.ok(!row.private_jwk_enc.includes('"d"'));
      assert.equal(row.public_jwk.d, undefined);
    }
  });
});
