import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { listRoutes, renderRouteTable } from '../../src/access/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

const DOC = new URL('../../docs/permissions.md', import.meta.url);
const BEGIN = '<!-- route-table:begin (generated from the route registry; see below) -->';
const END = '<!-- route-table:end -->';

let ctx: TestContext;
before(async () => {
  ctx = await createTestApp();
});
after(() => ctx.close());

/**
 * docs/permissions.md's route table is the route registry rendered (every route, its policy, the
 * roles that pass, whether API keys are accepted). After adding or changing a route, regenerate:
 * `BOKA_WRITE_ROUTE_TABLE=1 npm run test:only -- test/api-keys/permissions-doc.test.ts`.
 */
test('docs/permissions.md route table matches the registered routes', () => {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  assert.ok(start >= 0 && end > start, 'docs/permissions.md lacks the route-table markers');
  const rendered = renderRouteTable(listRoutes(ctx.app));
  const current = doc.slice(start + BEGIN.length, end).trim();
  if (process.env.BOKA_WRITE_ROUTE_TABLE === '1' && current !== rendered) {
    writeFileSync(DOC, `${doc.slice(0, start + BEGIN.length)}\n${rendered}\n${doc.slice(end)}`);
    return;
  }
  assert.equal(current, rendered, 'regenerate: BOKA_WRITE_ROUTE_TABLE=1 npm run test:only -- test/api-keys/permissions-doc.test.ts');
  // The table is not vacuous: every route is in it, and key acceptance follows the policy.
  assert.equal(rendered.split('\n').length - 2, listRoutes(ctx.app).length);
  assert.match(rendered, /\| POST \| `\/api\/tenants\/:tenantId\/api-keys` \| `api_keys\.create` \| superadmin, owner, manager \| no \(people only\) \|/);
});
