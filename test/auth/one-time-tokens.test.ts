import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findByToken, issueToken } from '../../src/auth/one-time-tokens.js';
import { hashSecret } from '../../src/auth/secrets.js';

describe('one-time tokens (<prefix><uuid>.<secret>, SHA-256 stored)', () => {
  test('issue: the token carries the id and a 256-bit secret; only its hash is returned for storage', () => {
    const { id, token, secretHash } = issueToken('rt_');
    assert.match(token, new RegExp(`^rt_${id}\\.[A-Za-z0-9_-]{43}$`));
    const secret = token.slice(token.indexOf('.') + 1);
    assert.deepEqual(secretHash, hashSecret(secret));
    assert.ok(!secretHash.toString('utf8').includes(secret));
    assert.notEqual(issueToken('rt_').token, token);
  });

  test('find: the named row when the secret matches; null for a wrong secret, prefix or shape', async () => {
    const { id, token, secretHash } = issueToken('rt_');
    const rows = new Map([[id, { id, secretHash }]]);
    const lookups: string[] = [];
    const find = (key: string) => {
      lookups.push(key);
      return Promise.resolve(rows.get(key) ?? null);
    };
    const hashOf = (r: { secretHash: Buffer }) => r.secretHash;
    assert.equal((await findByToken(token, 'rt_', find, hashOf))?.id, id);
    const wrongSecret = `${token.slice(0, -4)}AAAA`;
    assert.equal(await findByToken(wrongSecret, 'rt_', find, hashOf), null);
    assert.equal(await findByToken(`rt_${crypto.randomUUID()}.${token.split('.')[1]}`, 'rt_', find, hashOf), null, 'unknown id');
    lookups.length = 0;
    for (const bad of [token.replace('rt_', 'pr_'), 'rt_', `rt_${id}`, `rt_${id}.`, `rt_not-a-uuid.${'a'.repeat(43)}`, '']) {
      assert.equal(await findByToken(bad, 'rt_', find, hashOf), null, bad);
    }
    assert.deepEqual(lookups, [], 'a malformed token never reaches the database');
  });
});
