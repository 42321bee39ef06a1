import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPENAPI_JSON, renderOpenApiJson, renderSchemaTypes, SCHEMA_TYPES } from '../../scripts/client-generate.js';

/**
 * The client package is generated, and committed so that `tsc` checks every caller against it.
 * A route change without `npm run client:generate` fails here; one that breaks a caller fails
 * `tsc` (test/client/client-e2e.test.ts is such a caller).
 */
const REGENERATE = 'stale: run `npm run client:generate` and commit packages/client';

test('packages/client/openapi.json is the document the routes produce', async () => {
  const committed = readFileSync(OPENAPI_JSON, 'utf8');
  const fresh = await renderOpenApiJson();
  if (committed !== fresh) {
    const a = committed.split('\n');
    const b = fresh.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    assert.fail(`${REGENERATE} (first difference at line ${line + 1}: committed ${JSON.stringify(a[line])}, routes ${JSON.stringify(b[line])})`);
  }
});

test('packages/client/src/schema.d.ts is what openapi-typescript makes of openapi.json', async () => {
  const committed = readFileSync(SCHEMA_TYPES, 'utf8');
  const fresh = await renderSchemaTypes(readFileSync(OPENAPI_JSON, 'utf8'));
  assert.ok(committed === fresh, REGENERATE);
});

test('the staleness check can fail: a changed document renders different types', async () => {
  const doc = JSON.parse(readFileSync(OPENAPI_JSON, 'utf8')) as { paths: Record<string, unknown> };
  delete doc.paths['/api/auth/me'];
  const changed = await renderSchemaTypes(JSON.stringify(doc));
  assert.notEqual(changed, readFileSync(SCHEMA_TYPES, 'utf8'));
  assert.doesNotMatch(changed, /"\/api\/auth\/me"/);
});
