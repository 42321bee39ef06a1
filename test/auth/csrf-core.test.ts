import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideCsrf, needsCsrfCheck } from '../../src/auth/csrf.core.js';

const FIRST_PARTY = new Set(['https://app.example.test']);

// RFC 9110 §9.2.1 safe methods; only requests a browser may have credentialed by itself are checked.
test('needsCsrfCheck: unsafe methods with the cookie or a cookie-mode request only', () => {
  const table: Array<[string, boolean, boolean, boolean]> = [
    ['POST', true, false, true], ['PUT', true, false, true], ['PATCH', true, false, true], ['DELETE', true, false, true],
    ['POST', false, true, true], ['POST', false, false, false],
    ['GET', true, true, false], ['HEAD', true, false, false], ['OPTIONS', true, true, false],
  ];
  for (const [method, cookie, mode, expected] of table) assert.equal(needsCsrfCheck(method, cookie, mode), expected, `${method} ${cookie} ${mode}`);
});

// ASVS 4.2.2 / 13.2.3; OWASP CSRF cheat sheet: Origin against an allow-list, else Fetch Metadata same-origin.
test('decideCsrf: allow-listed Origin or same-origin fetch metadata; everything else refused', () => {
  const table: Array<[Record<string, string | string[]>, string]> = [
    [{ origin: 'https://app.example.test' }, 'allowed'],
    [{ origin: 'https://app.example.test', 'sec-fetch-site': 'cross-site' }, 'allowed'],
    [{ origin: 'https://evil.example.test', 'sec-fetch-site': 'same-origin' }, 'origin_not_allowed'],
    [{ origin: 'null' }, 'origin_not_allowed'],
    [{ origin: 'https://app.example.test/' }, 'origin_not_allowed'],
    [{ origin: ['https://app.example.test', 'https://app.example.test'] }, 'origin_not_allowed'],
    [{ 'sec-fetch-site': 'same-origin' }, 'allowed'],
    [{ 'sec-fetch-site': 'same-site' }, 'cross_site'],
    [{ 'sec-fetch-site': 'cross-site' }, 'cross_site'],
    [{ 'sec-fetch-site': 'none' }, 'cross_site'],
    [{}, 'no_origin'],
  ];
  for (const [headers, expected] of table) {
    const d = decideCsrf(headers, FIRST_PARTY);
    assert.equal(d.allowed ? 'allowed' : d.reason, expected, JSON.stringify(headers));
  }
  assert.equal(decideCsrf({ origin: 'https://app.example.test' }, new Set()).allowed, false, 'an empty allow-list refuses every origin');
});
