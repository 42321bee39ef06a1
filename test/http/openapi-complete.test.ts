import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { listRoutes, type AccessPolicy } from '../../src/access/index.js';
import { ERROR_CATALOGUE } from '../../src/errors/index.js';
import { bearer, createTenant, createTestApp, signUp, type TestContext } from '../helpers/app.js';

/**
 * Issue 19: the OpenAPI document is complete. Every visible operation has a stable camelCase
 * operationId, a one-line summary, an explicit security requirement, at least one documented
 * 4xx, error answers in the one error schema (docs/errors.md), and an example for its body. And
 * it tells the truth: what the app answers is what the document says (OWASP API Security Top 10
 * 2023, API9 "Improper Inventory Management": documentation generated from the code, kept current;
 * RFC 6750 §2.1 / RFC 7235 §2.1: a bearer-protected operation says so, a public one says nothing).
 */

interface MediaType { schema?: Record<string, unknown>; example?: unknown; examples?: Record<string, { value: unknown }> }
interface Operation {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: { default?: unknown } }>;
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; in?: string; name?: string; scheme?: string }>; schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
  security?: unknown;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
const ERROR_REF = '#/components/schemas/ErrorResponse';
/** Error statuses answered with their own report on purpose (a probe reads the body). */
const STATUS_REPORTS = new Set(['getReadiness 503', 'getDeepHealth 503']);
/** A step may answer a code with another status than its catalogue default (src/mfa/mfa-policy.step.ts). */
const OTHER_STATUS: Record<string, number[]> = { mfa_required: [403] };

function operations(doc: OpenApiDoc): Array<{ name: string; method: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, method, path, op })),
  );
}

function listedCodes(description: string | undefined): string[] {
  return (description ?? '').split(', ').filter((c) => c !== '');
}

function examplesOf(media: MediaType): unknown[] {
  if (media.example !== undefined) return [media.example];
  return Object.values(media.examples ?? {}).map((e) => e.value);
}

/** Everything that makes the document incomplete, one line per problem naming the operation. */
function findProblems(doc: OpenApiDoc): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const schemes = doc.components?.securitySchemes ?? {};
  for (const { name, op } of operations(doc)) {
    const id = op.operationId;
    if (!id || !/^[a-z][a-zA-Z0-9]*$/.test(id)) problems.push(`${name}: no camelCase operationId`);
    else if (seen.has(id)) problems.push(`${name}: operationId ${id} is also used by ${seen.get(id)}`);
    else seen.set(id, name);
    if (!op.summary || op.summary.trim() === '' || op.summary.includes('\n')) problems.push(`${name}: no one-line summary`);
    if (!Array.isArray(op.security)) problems.push(`${name}: no security requirement (public operations say [])`);
    for (const requirement of op.security ?? []) {
      for (const scheme of Object.keys(requirement)) if (!schemes[scheme]) problems.push(`${name}: unknown security scheme ${scheme}`);
    }
    const responses = op.responses ?? {};
    if (!Object.keys(responses).some((s) => /^4\d\d$/.test(s))) problems.push(`${name}: no 4xx response`);
    for (const [status, response] of Object.entries(responses)) {
      if (!/^[45]\d\d$/.test(status)) continue;
      if (STATUS_REPORTS.has(`${id} ${status}`)) continue;
      if (response.content?.['application/json']?.schema?.$ref !== ERROR_REF) problems.push(`${name}: ${status} does not use the shared error schema`);
      const codes = listedCodes(response.description);
      if (codes.length === 0) problems.push(`${name}: ${status} names no error code`);
      for (const code of codes) {
        const entry = (ERROR_CATALOGUE as Record<string, { status: number }>)[code];
        if (!entry) problems.push(`${name}: ${status} lists ${code}, which is not in the catalogue`);
        else if (entry.status !== Number(status) && !OTHER_STATUS[code]?.includes(Number(status))) {
          problems.push(`${name}: ${status} lists ${code}, whose status is ${entry.status}`);
        }
      }
    }
    if (op.requestBody) {
      const media = op.requestBody.content?.['application/json'];
      if (!media || examplesOf(media).length === 0) problems.push(`${name}: request body without an example`);
    }
    for (const p of op.parameters ?? []) {
      if (p.required && p.schema?.default !== undefined) problems.push(`${name}: ${p.in} parameter ${p.name} has a default but is marked required`);
    }
  }
  return problems;
}

/** What the pipeline (src/access/pipeline.ts) accepts per policy, as the document must say. */
function expectedSecurity(access: AccessPolicy): Array<Record<string, string[]>> {
  // Optional sign-in: the empty requirement (anonymous) or a user's bearer token.
  if ('public' in access) return access.signedInOptional ? [{}, { bearer: [] }] : [];
  if ('operator' in access) return [{ operatorToken: [] }];
  // Key-minting routes are for people (ADR 0017): `apiKeys: false`.
  if ('permission' in access) return access.apiKeys === false ? [{ bearer: [] }] : [{ bearer: [] }, { apiKey: [] }];
  return [{ bearer: [] }];
}

let ctx: TestContext;
let doc: OpenApiDoc;
before(async () => {
  ctx = await createTestApp();
  doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDoc>();
});
after(async () => ctx.close());

test('the document is valid OpenAPI 3.1 and complete: no operation lacks an id, summary, security, 4xx, error schema or body example', async () => {
  const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
  assert.ok(operations(doc).length >= 60, `only ${operations(doc).length} operations`);
  assert.deepEqual(findProblems(doc), []);
});

test('the completeness check names the operation for each kind of gap (it can fail)', () => {
  const broken = structuredClone(doc);
  const signup = broken.paths['/api/auth/signup']!.post!;
  const login = broken.paths['/api/auth/login']!.post!;
  const me = broken.paths['/api/auth/me']!.get!;
  const tenant = broken.paths['/api/tenants/{tenantId}']!.get!;
  const services = broken.paths['/api/tenants/{tenantId}/services']!.get!;
  delete signup.operationId;
  login.operationId = 'getMe';
  delete me.summary;
  delete tenant.security;
  delete signup.requestBody!.content!['application/json']!.example;
  delete signup.requestBody!.content!['application/json']!.examples;
  tenant.responses!['404'] = { description: 'not_found', content: { 'application/json': { schema: { type: 'object' } } } };
  tenant.responses!['403']!.description = 'no_such_code';
  me.responses = { 200: { description: 'ok' } };
  services.parameters!.find((p) => p.name === 'limit')!.required = true;
  const problems = findProblems(broken);
  for (const expected of [
    'POST /api/auth/signup: no camelCase operationId',
    'POST /api/auth/signup: request body without an example',
    'GET /api/auth/me: no one-line summary',
    'GET /api/auth/me: no 4xx response',
    'GET /api/tenants/{tenantId}: no security requirement (public operations say [])',
    'GET /api/tenants/{tenantId}: 404 does not use the shared error schema',
    'GET /api/tenants/{tenantId}: 403 lists no_such_code, which is not in the catalogue',
    'GET /api/tenants/{tenantId}/services: query parameter limit has a default but is marked required',
  ]) assert.ok(problems.includes(expected), `${expected}\nnot in:\n${problems.join('\n')}`);
  assert.ok(problems.some((p) => /operationId getMe is also used by/.test(p)), problems.join('\n'));
});

test('the error schema carries every catalogue code; bearer, X-API-Key and operator schemes exist; nothing inherits a global requirement', () => {
  const error = doc.components.schemas.ErrorResponse;
  assert.ok(error, 'components.schemas.ErrorResponse');
  assert.deepEqual(error.properties?.code?.enum, Object.keys(ERROR_CATALOGUE));
  assert.deepEqual(error.properties?.error?.enum, Object.keys(ERROR_CATALOGUE));
  const schemes = doc.components.securitySchemes;
  assert.deepEqual({ type: schemes.bearer?.type, scheme: schemes.bearer?.scheme }, { type: 'http', scheme: 'bearer' });
  assert.deepEqual({ type: schemes.apiKey?.type, in: schemes.apiKey?.in, name: schemes.apiKey?.name }, { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  assert.deepEqual({ type: schemes.operatorToken?.type, scheme: schemes.operatorToken?.scheme }, { type: 'http', scheme: 'bearer' });
  assert.equal(doc.security, undefined);
  // The examples: sign-up, login and health need no credential.
  for (const [path, method] of [['/api/auth/signup', 'post'], ['/api/auth/login', 'post'], ['/api/health', 'get']] as const) {
    assert.deepEqual(doc.paths[path]?.[method]?.security, [], `${method} ${path}`);
  }
});

test("each operation's security is the one its access policy accepts", () => {
  const mismatched: string[] = [];
  for (const route of listRoutes(ctx.app)) {
    const op = doc.paths[route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
    if (!op) continue; // hidden routes (the document itself, /docs, /metrics)
    if (JSON.stringify(op.security) !== JSON.stringify(expectedSecurity(route.access))) {
      mismatched.push(`${route.method} ${route.url}: ${JSON.stringify(op.security)}`);
    }
  }
  assert.deepEqual(mismatched, []);
});

test('every request body example is valid against its own schema', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const invalid: string[] = [];
  for (const { name, op } of operations(doc)) {
    const media = op.requestBody?.content?.['application/json'];
    if (!media?.schema) continue;
    const validate = ajv.compile(media.schema);
    for (const example of examplesOf(media)) {
      if (!validate(example)) invalid.push(`${name}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  assert.deepEqual(invalid, []);
});

/**
 * The document tells the truth: every operation is called as an anonymous client, with a bad
 * token, as a tenant owner, as a signed-in stranger and with a narrow API key, sending its
 * documented example body; each answer's status must be documented for that operation, and an
 * error answer's code must be one the document lists for that status.
 */
test('what the app answers is what the document says, for every operation and caller', async () => {
  const owner = await signUp(ctx.app, 'owner');
  const stranger = await signUp(ctx.app, 'stranger');
  const tenant = await createTenant(ctx.app, owner);
  const keyRes = await ctx.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/api-keys`,
    headers: bearer(owner.accessToken),
    payload: { name: 'narrow', permissions: ['services.read'] },
  });
  assert.equal(keyRes.statusCode, 201, keyRes.body);
  const apiKey = keyRes.json<{ key: string }>().key;

  const callers: Array<{ label: string; headers: Record<string, string>; remoteAddress?: string }> = [
    { label: 'anonymous (remote)', headers: {}, remoteAddress: '203.0.113.9' },
    { label: 'bad token', headers: { authorization: 'Bearer not.a.jwt' } },
    { label: 'stranger', headers: bearer(stranger.accessToken) },
    { label: 'api key', headers: { 'x-api-key': apiKey } },
    { label: 'owner', headers: bearer(owner.accessToken) },
  ];
  // These end or change the owner's session or policy; they run after everything else.
  const LAST = new Set(['logOut', 'revokeSession', 'changePassword', 'setSecurityPolicy', 'disableTotp']);
  const ordered = operations(doc).sort((a, b) => Number(LAST.has(a.op.operationId ?? '')) - Number(LAST.has(b.op.operationId ?? '')));

  const undocumented: string[] = [];
  for (const caller of callers) {
    for (const { name, method, path, op } of ordered) {
      const url = path
        .replace('{tenantId}', tenant.id)
        .replace('{slug}', tenant.slug)
        .replace(/\{[A-Za-z]+\}/g, () => randomUUID());
      const media = op.requestBody?.content?.['application/json'];
      const body = media ? examplesOf(media)[0] : undefined;
      const res = await ctx.app.inject({
        method: method.toUpperCase() as 'GET',
        url,
        headers: caller.headers,
        ...(caller.remoteAddress ? { remoteAddress: caller.remoteAddress } : {}),
        ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
      });
      const documented = op.responses?.[String(res.statusCode)];
      if (!documented) {
        undocumented.push(`${caller.label}: ${name} answered ${res.statusCode} ${res.body.slice(0, 120)}`);
        continue;
      }
      if (res.statusCode >= 400 && !STATUS_REPORTS.has(`${op.operationId} ${res.statusCode}`)) {
        const code = res.json<{ code: string }>().code;
        if (!listedCodes(documented.description).includes(code)) {
          undocumented.push(`${caller.label}: ${name} answered ${res.statusCode} ${code}, documented: ${documented.description}`);
        }
      }
      // The security requirement is what the pipeline does.
      const security = JSON.stringify(op.security);
      // `{}` among the requirements: a credential is optional, anonymous callers get through.
      const anonymousAllowed = security === '[]' || (op.security ?? []).some((r) => Object.keys(r).length === 0);
      if (caller.label === 'anonymous (remote)' && !anonymousAllowed) {
        const expected = security.includes('operatorToken') ? 403 : 401;
        if (res.statusCode !== expected) undocumented.push(`${caller.label}: ${name} answered ${res.statusCode}, its security says ${expected}`);
      }
      // (Operator routes answer loopback callers when no operator token is configured, whatever they send.)
      if (caller.label === 'api key' && security !== '[]' && !security.includes('apiKey') && !security.includes('operatorToken') && res.statusCode < 400) {
        undocumented.push(`api key: ${name} accepted an API key its security does not name`);
      }
      if (caller.label === 'api key' && security.includes('apiKey') && res.statusCode === 401) {
        undocumented.push(`api key: ${name} refused the API key its security names as accepted`);
      }
    }
  }
  assert.deepEqual(undocumented, []);
});
