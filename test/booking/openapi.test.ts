import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { DOCS_PREFIX } from '../../src/http/openapi.js';
import { listRoutes } from '../../src/access/pipeline.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
before(async () => {
  ctx = await createTestApp();
});
after(async () => ctx.close());

// Hidden on purpose, and only these: the document itself, the docs UI, and the Prometheus
// scrape endpoint (text exposition format, not part of the JSON API; src/ops/metrics.routes.ts).
const UNDOCUMENTED = (url: string) =>
  url === '/openapi.json' || url === '/metrics' || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`);

test('/openapi.json is a valid OpenAPI 3.1 document generated from the routes', async () => {
  const res = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
  assert.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));

  const missing = listRoutes(ctx.app)
    .filter((r) => !UNDOCUMENTED(r.url) && r.method !== 'OPTIONS')
    .filter((r) => !doc.paths[r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[r.method.toLowerCase()])
    .map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(missing, []);
});

test('the docs UI is served at /docs and its assets are public', async () => {
  const html = await ctx.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/` });
  assert.equal(html.statusCode, 200);
  assert.match(html.headers['content-type'] as string, /text\/html/);
  const init = await ctx.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/static/swagger-initializer.js` });
  assert.equal(init.statusCode, 200);
  const json = await ctx.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` });
  assert.equal(json.statusCode, 200);
  // Every docs route went through the access check as public (none would have registered otherwise).
  const docsRoutes = listRoutes(ctx.app).filter((r) => r.url.startsWith(DOCS_PREFIX));
  assert.ok(docsRoutes.length > 0);
  assert.ok(docsRoutes.every((r) => 'public' in r.access));
});
