import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.js';

/** The catalogue and docs/errors.md must list the same codes with the same statuses. */
test('docs/errors.md documents exactly the catalogue', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| ([0-9 /]+) \|/gm)].map((m) => ({
    code: m[1]!,
    statuses: m[2]!.split('/').map((s) => Number(s.trim())),
  }));
  const documented = new Map(rows.map((r) => [r.code, r.statuses]));
  for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
    const statuses = documented.get(code);
    assert.ok(statuses, `docs/errors.md lacks a row for ${code}`);
    assert.ok(statuses.includes(status), `docs/errors.md gives ${code} status ${statuses.join('/')}, catalogue says ${status}`);
  }
  for (const code of documented.keys()) {
    assert.ok(code in ERROR_CATALOGUE, `docs/errors.md documents ${code}, which the catalogue does not define`);
  }
});
