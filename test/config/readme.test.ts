import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

/** Every environment variable the config reads has a row in the README's configuration table. */
test('README documents every setting read by src/config/config.ts', () => {
  const source = readFileSync(new URL('../../src/config/config.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const names = new Set([
    ...[...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
    ...[...source.matchAll(/read[A-Za-z]+\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!),
  ]);
  assert.ok(names.size > 20, `found only ${names.size} settings; did the config reader change shape?`);
  const documented = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)`(?: \/ `([A-Z][A-Z0-9_]+)`)? \|/gm)].flatMap((m) => [m[1], m[2]]).filter(Boolean));
  // Secret settings also come from files: each has its `<NAME>_FILE` row (`NAME` / `NAME_FILE`).
  const secrets = [...source.matchAll(/readSecret\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => `${m[1]!}_FILE`);
  assert.ok(secrets.length >= 6, `found only ${secrets.length} secret settings`);
  const missing = [...names, ...secrets].filter((n) => !documented.has(n));
  assert.deepEqual(missing, [], 'add these to the README configuration table');
});
