import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCanonicalOrigin } from '../../src/shared/origins.js';

// RFC 6454 §6.2 serialization, the form browsers send in `Origin`; ASVS 14.5.3 (no wildcard, no null).
test('canonical origins are accepted; every other spelling, scheme or wildcard is refused', () => {
  for (const ok of ['https://example.com', 'http://localhost:5173', 'https://a.b-c.example.co.uk:8443', 'http://127.0.0.1:3000', 'https://[::1]:8443', 'https://xn--bcher-kva.example']) {
    assert.equal(isCanonicalOrigin(ok), true, ok);
  }
  for (const bad of [
    '', 'null', '*', 'https://*.example.com', 'https://example.com/', 'https://example.com/path', 'https://Example.com', 'HTTPS://example.com',
    'https://example.com:443', 'http://example.com:80', 'https://user@example.com', 'https://user:pw@example.com', 'ftp://example.com',
    'javascript:alert(1)', 'file:///etc/passwd', 'https://bücher.example', 'https://example.com?x', 'https://example.com#x', ' https://example.com',
    'https://exa_mple.com', 'https://-bad.example', `https://${'a'.repeat(250)}.com`, 'https://example.com\u0000',
  ]) {
    assert.equal(isCanonicalOrigin(bad), false, JSON.stringify(bad));
  }
  assert.equal(isCanonicalOrigin(undefined), false);
  assert.equal(isCanonicalOrigin(['https://example.com']), false);
});
