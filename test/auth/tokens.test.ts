import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64url, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { webcrypto } from 'node:crypto';
import { decryptAtRest } from '../../src/auth/secrets.js';
import { bearer, createTestApp, errorBody, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Access-token attacks (RFC 8725, JWT Best Current Practices §2.1–2.8, §3.1 algorithm pinning;
 * ASVS 3.5.3). Every forged token must be refused with 401 invalid_token, an expired one with
 * token_expired.
 */
type CryptoKey = webcrypto.CryptoKey;

describe('access-token verification', () => {
  let ctx: TestContext;
  let user: SignedInUser;
  let serverKey: { kid: string; privateKey: CryptoKey; publicJwk: JWK };

  before(async () => {
    ctx = await createTestApp();
    user = await signUp(ctx.app, 'jwt');
    // The test reads the real signing key the way the server does: decrypting it with BOKA_SECRET_KEY.
    const row = (await ctx.database.db.query<{ kid: string; public_jwk: JWK; private_jwk_enc: string }>(
      'SELECT kid, public_jwk, private_jwk_enc FROM signing_keys',
    )).rows[0]!;
    const privateJwk = JSON.parse(decryptAtRest(row.private_jwk_enc, Buffer.from(ctx.config.secretKey!, 'base64url'))) as JWK;
    serverKey = { kid: row.kid, privateKey: (await importJWK(privateJwk, 'ES256')) as CryptoKey, publicJwk: row.public_jwk };
  });
  after(() => ctx.close());

  const now = () => Math.floor(Date.now() / 1000);
  const validClaims = (): JWTPayload => ({
    sub: user.id,
    sid: user.sessionId,
    iss: ctx.config.jwt.issuer,
    aud: ctx.config.jwt.audience,
    iat: now(),
    exp: now() + 300,
  });
  const signWithServerKey = (claims: JWTPayload, kid = serverKey.kid) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(serverKey.privateKey);
  const call = (token: string) => ctx.app.inject({ url: '/api/auth/me', headers: bearer(token) });

  async function assertRejected(token: string, code = 'invalid_token') {
    const res = await call(token);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(errorBody(res).code, code);
  }

  test('the control: a token signed with the server key and valid claims is accepted', async () => {
    assert.equal((await call(await signWithServerKey(validClaims()))).statusCode, 200);
  });

  test('alg "none" is refused', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: serverKey.kid }));
    const payload = base64url.encode(JSON.stringify(validClaims()));
    await assertRejected(`${header}.${payload}.`);
  });

  test('HS256 signed with the public key as the HMAC secret (key confusion) is refused', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(serverKey.publicJwk));
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'HS256', kid: serverKey.kid }).sign(secret);
    await assertRejected(token);
  });

  test('RS256 from an attacker key carrying the server kid is refused', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'RS256', kid: serverKey.kid }).sign(privateKey);
    await assertRejected(token);
  });

  test('an unknown kid is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', kid: 'attacker-kid' }).sign(privateKey);
    await assertRejected(token);
  });

  test('an attacker ES256 key reusing the server kid fails the signature check', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', kid: serverKey.kid }).sign(privateKey);
    await assertRejected(token);
  });

  test('a tampered payload (bad signature) is refused', async () => {
    const [h, , s] = (await signWithServerKey(validClaims())).split('.');
    const forged = base64url.encode(JSON.stringify({ ...validClaims(), sub: '00000000-0000-4000-8000-000000000000' }));
    await assertRejected(`${h}.${forged}.${s}`);
  });

  test('wrong audience and wrong issuer are refused', async () => {
    await assertRejected(await signWithServerKey({ ...validClaims(), aud: 'someone-else' }));
    await assertRejected(await signWithServerKey({ ...validClaims(), iss: 'https://evil.example' }));
  });

  test('not-yet-valid tokens (nbf or iat in the future) are refused', async () => {
    await assertRejected(await signWithServerKey({ ...validClaims(), nbf: now() + 600 }));
    await assertRejected(await signWithServerKey({ ...validClaims(), iat: now() + 600 }));
  });

  test('a token without sid or sub is refused', async () => {
    const { sid: _sid, ...noSid } = validClaims();
    await assertRejected(await signWithServerKey(noSid));
    const { sub: _sub, ...noSub } = validClaims();
    await assertRejected(await signWithServerKey(noSub));
  });

  test("a valid signature naming someone else's session is refused", async () => {
    const other = await signUp(ctx.app, 'other');
    await assertRejected(await signWithServerKey({ ...validClaims(), sid: other.sessionId }));
  });

  test('an expired token is 401 token_expired', async () => {
    await assertRejected(await signWithServerKey({ ...validClaims(), iat: now() - 1200, exp: now() - 600 }), 'token_expired');
  });

  test('garbage and a malformed Authorization header are 401 invalid_token', async () => {
    await assertRejected('not.a.jwt');
    await assertRejected('x'.repeat(5000));
    const res = await ctx.app.inject({ url: '/api/auth/me', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(res.statusCode, 401);
    assert.equal(errorBody(res).code, 'invalid_token');
  });
});
