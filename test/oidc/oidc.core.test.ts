import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideSignIn, readClaims, type ProviderClaims } from '../../src/oidc/oidc.core.js';

const claims = (over: Partial<ProviderClaims> = {}): ProviderClaims => ({ subject: 's1', email: 'a@example.test', emailVerified: true, name: null, ...over });

/** ADR 0015: linking only by a provider-verified email, and only to a verified account. */
test('decideSignIn: the full matrix', () => {
  const verified = { id: 'u1', emailVerified: true };
  const unverified = { id: 'u2', emailVerified: false };
  const rows: Array<[string, Parameters<typeof decideSignIn>[0], ReturnType<typeof decideSignIn>]> = [
    ['known identity signs in, whatever the email', { identity: { userId: 'u9' }, claims: claims({ email: null, emailVerified: false }), userByEmail: null, allowSignup: false }, { kind: 'sign_in', userId: 'u9' }],
    ['verified email + verified account → link', { identity: null, claims: claims(), userByEmail: verified, allowSignup: false }, { kind: 'link', userId: 'u1' }],
    ['verified email + unverified account → refuse', { identity: null, claims: claims(), userByEmail: unverified, allowSignup: true }, { kind: 'refuse', code: 'duplicate_resource', reason: 'account_email_unverified' }],
    ['unverified email + verified account → refuse', { identity: null, claims: claims({ emailVerified: false }), userByEmail: verified, allowSignup: true }, { kind: 'refuse', code: 'oidc_email_unverified', reason: 'email_unverified' }],
    ['no email → refuse', { identity: null, claims: claims({ email: null }), userByEmail: null, allowSignup: true }, { kind: 'refuse', code: 'oidc_email_unverified', reason: 'no_email' }],
    ['verified email, no account, sign-up open → create', { identity: null, claims: claims(), userByEmail: null, allowSignup: true }, { kind: 'create' }],
    ['verified email, no account, sign-up closed → refuse', { identity: null, claims: claims(), userByEmail: null, allowSignup: false }, { kind: 'refuse', code: 'oidc_signup_disabled', reason: 'signup_disabled' }],
  ];
  for (const [label, input, expected] of rows) assert.deepEqual(decideSignIn(input), expected, label);
});

test('readClaims: only the boolean true verifies; emails and names are bounded', () => {
  assert.equal(readClaims('s', { email: 'a@b.test', email_verified: 'true' }).emailVerified, false);
  assert.equal(readClaims('s', { email: 'a@b.test', email_verified: 1 }).emailVerified, false);
  assert.equal(readClaims('s', { email: 'a@b.test', email_verified: true }).emailVerified, true);
  assert.equal(readClaims('s', { email: ' a@b.test ' }).email, 'a@b.test');
  for (const bad of ['no-at', 'a b@c.test', `${'x'.repeat(250)}@b.test`, 42, null]) assert.equal(readClaims('s', { email: bad }).email, null, String(bad));
  assert.equal(readClaims('s', { name: 'n'.repeat(500) }).name?.length, 200);
  assert.equal(readClaims('s', { name: '   ' }).name, null);
});
