import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { hasPermission, keyScopeCovers, listRoutes, type AccessPolicy, type Permission, type TenantRole } from '../../src/access/index.js';
import { ERROR_CATALOGUE } from '../../src/errors/index.js';
import { addMember, bearer, createTestApp, signUp, TEST_PASSWORD, uniqueEmail, type SignedInUser, type TestContext } from '../helpers/app.js';
import { createBookingFixture, ok, type BookingFixture } from '../booking/helpers.js';

/**
 * Issue 12, "keep it fixed": every operation of /openapi.json, as seven principals, first with a
 * valid request checked against the permission matrix, then with seeded random mutations (wrong
 * types, missing and extra fields, prototype keys, huge and NUL-bearing strings, extreme numbers
 * and dates, non-canonical and foreign ids). Invariants: no 5xx, every error in the documented
 * shape, and no data of another tenant in any 2xx body.
 *
 * Bounded for `npm test` (FUZZ_RUNS, default 400); `npm run fuzz` runs many more. A failure prints
 * the seed and the shrunk counter-example; rerun with FUZZ_SEED=<seed> to reproduce.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  minProperties?: number;
};
interface Operation {
  method: Method;
  path: string; // OpenAPI form: /api/tenants/{tenantId}
  pathParams: string[];
  query: Array<{ name: string; schema: Schema; required: boolean }>;
  body: Schema | null;
  access: AccessPolicy | undefined;
}
interface Principal {
  name: 'owner' | 'manager' | 'staff' | 'customer' | 'foreign_owner' | 'api_key' | 'anonymous';
  headers: Record<string, string>;
  role: TenantRole | null; // role in tenant A
  keyPermissions?: readonly Permission[];
}
interface Req {
  method: Method;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

const KEY_PERMISSIONS: readonly Permission[] = ['services.read', 'reservations.read', 'customers.read'];

const FIRST_PARTY_ORIGIN = 'https://app.example.test';

describe('fuzz: every operation × seven principals, valid and mutated requests', { timeout: 600_000 }, () => {
  let ctx: TestContext;
  let a: BookingFixture;
  let b: BookingFixture;
  let operations: Operation[];
  let principals: Principal[];
  const ids: Record<string, string> = {};
  /** Strings that only tenant B's data contains: none may appear in a 2xx body answered to anyone else. */
  const foreign: string[] = [];
  let evilIds: string[] = [];

  before(async () => {
    ctx = await createTestApp({ env: { RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '1000000', RATE_LIMIT_AUTH_FAILURES_PER_IP: '1000000', CORS_ORIGINS: FIRST_PARTY_ORIGIN } });
    const app = ctx.app;
    a = await createBookingFixture(app);
    b = await createBookingFixture(app);

    // Tenant A: one member per role, a reservation, time off, an invitation, keys and a spare session.
    const members: Partial<Record<TenantRole, SignedInUser>> = {};
    for (const role of ['manager', 'staff', 'customer'] as const) {
      members[role] = await signUp(app, role);
      await addMember(app, a.owner, a.tenant.id, members[role], role);
    }
    const victim = await signUp(app, 'victim');
    await addMember(app, a.owner, a.tenant.id, victim, 'guest');
    const slot = await firstSlot(a);
    const reservation = await ok<{ id: string }>(app, a.owner, 'POST', `${a.base}/reservations`, {
      serviceId: a.serviceId, staffId: a.staffId, customerId: a.customerId, start: slot,
    });
    const timeOff = await ok<{ id: string }>(app, a.owner, 'POST', `${a.base}/staff/${a.staffId}/time-off`, {
      start: dayAfter(20, 10), end: dayAfter(20, 12),
    });
    const invitation = await ok<{ id: string }>(app, a.owner, 'POST', `${a.base}/invitations`, { email: uniqueEmail('invitee'), role: 'staff' });
    const key = await ok<{ id: string; key: string }>(app, a.owner, 'POST', `${a.base}/api-keys`, { name: 'narrow', permissions: [...KEY_PERMISSIONS] });
    const spareKey = await ok<{ id: string }>(app, a.owner, 'POST', `${a.base}/api-keys`, { name: 'spare', permissions: ['services.read'] });
    const spareSession = await ok<{ sessionId: string }>(app, null, 'POST', '/api/auth/login', { email: a.owner.email, password: TEST_PASSWORD });
    Object.assign(ids, {
      tenantId: a.tenant.id, slug: a.tenant.slug, services: a.serviceId, staff: a.staffId, customers: a.customerId,
      reservations: reservation.id, timeOffId: timeOff.id, invitations: invitation.id, 'api-keys': spareKey.id,
      userId: victim.id, sessions: spareSession.sessionId,
    });

    // Tenant B: marked data.
    const marker = `FOREIGN${randomBytes(4).toString('hex')}`;
    const bService = await ok<{ id: string }>(app, b.owner, 'POST', `${b.base}/services`, {
      name: `${marker}-service`, durationMinutes: 30, bufferMinutes: 0, priceCents: 1, currency: 'EUR',
    });
    const bCustomer = await ok<{ id: string }>(app, b.owner, 'POST', `${b.base}/customers`, { name: `${marker}-customer`, email: `${marker.toLowerCase()}@example.test` });
    const bSlot = await firstSlot(b);
    const bReservation = await ok<{ id: string }>(app, b.owner, 'POST', `${b.base}/reservations`, {
      serviceId: b.serviceId, staffId: b.staffId, customerId: bCustomer.id, start: bSlot, notes: `${marker}-notes`,
    });
    foreign.push(marker, marker.toLowerCase(), b.tenant.id, b.serviceId, bService.id, b.staffId, b.customerId, bCustomer.id, bReservation.id);

    principals = [
      { name: 'owner', headers: bearer(a.owner.accessToken), role: 'owner' },
      { name: 'manager', headers: bearer(members.manager!.accessToken), role: 'manager' },
      { name: 'staff', headers: bearer(members.staff!.accessToken), role: 'staff' },
      { name: 'customer', headers: bearer(members.customer!.accessToken), role: 'customer' },
      { name: 'foreign_owner', headers: bearer(b.owner.accessToken), role: null },
      { name: 'api_key', headers: { 'x-api-key': key.key }, role: 'owner', keyPermissions: KEY_PERMISSIONS },
      { name: 'anonymous', headers: {}, role: null },
    ];
    const moved = (id: string) => {
      const hex = id.replace(/-/g, '');
      return `${hex.slice(0, 9)}-${hex.slice(9, 13)}-${hex.slice(13, 17)}-${hex.slice(17, 21)}-${hex.slice(21, 31)}`;
    };
    evilIds = [
      a.serviceId.toUpperCase(), `urn:uuid:${a.serviceId}`, `{${a.customerId}}`, moved(a.staffId), a.tenant.id.toUpperCase(),
      b.tenant.id, b.serviceId, b.staffId, b.customerId, bReservation.id, randomUUID(), '00000000-0000-0000-0000-000000000000',
      'not-a-uuid', 'a'.repeat(36), `${a.serviceId}\u0000`, '%00', '..', '',
    ];

    // The operations, from the published document; the policy of each from the route table.
    const doc = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, OpenApiOperation>> }>();
    const policies = new Map(listRoutes(app).map((r) => [`${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`, r.access]));
    operations = [];
    for (const [path, byMethod] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(byMethod)) {
        const method = m.toUpperCase() as Method;
        if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) continue;
        const params = op.parameters ?? [];
        operations.push({
          method,
          path,
          pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
          query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema, required: p.required === true })),
          body: op.requestBody?.content?.['application/json']?.schema ?? null,
          access: policies.get(`${method} ${path}`),
        });
      }
    }
  });
  after(() => ctx.close());

  interface OpenApiOperation {
    parameters?: Array<{ in: string; name: string; schema: Schema; required?: boolean }>;
    requestBody?: { content?: Record<string, { schema: Schema }> };
  }

  // ---- valid values -------------------------------------------------------------------------

  function dayAfter(days: number, hour: number): string {
    const d = new Date();
    d.setUTCHours(hour, 0, 0, 0);
    return new Date(d.getTime() + days * 86_400_000).toISOString();
  }

  async function firstSlot(f: BookingFixture): Promise<string> {
    const res = await ok<{ slots: Array<{ start: string }> }>(
      ctx.app, f.owner, 'GET', `${f.base}/availability?serviceId=${f.serviceId}&from=${encodeURIComponent(dayAfter(3, 0))}&to=${encodeURIComponent(dayAfter(4, 0))}`,
    );
    assert.ok(res.slots[0], 'the fixture has a free slot');
    return res.slots[0].start;
  }

  function idFor(name: string): string {
    const byName: Record<string, string | undefined> = {
      serviceId: a.serviceId, staffId: a.staffId, customerId: a.customerId, reservationId: ids.reservations, tenantId: a.tenant.id,
    };
    return byName[name] ?? randomUUID();
  }

  /** A value that satisfies `schema` (required properties only), named after its field. */
  function valid(schema: Schema | undefined, name: string): unknown {
    if (!schema) return 'x';
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    const variants = schema.anyOf ?? schema.oneOf;
    if (variants) return valid(variants.find((v) => v.type !== 'null') ?? variants[0], name);
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        const props = schema.properties ?? {};
        const wanted = new Set(schema.required ?? []);
        if (wanted.size < (schema.minProperties ?? 0)) for (const k of Object.keys(props).slice(0, schema.minProperties)) wanted.add(k);
        for (const k of wanted) out[k] = valid(props[k], k);
        return out;
      }
      case 'array':
        return Array.from({ length: Math.max(schema.minItems ?? 0, 1) }, () => valid(schema.items, name.replace(/s$/, '')));
      case 'integer':
      case 'number': {
        if (name === 'durationMinutes') return 30;
        if (name === 'weekday') return 1;
        const min = schema.minimum ?? 0;
        return Math.min(Math.max(min, 1), schema.maximum ?? Number.MAX_SAFE_INTEGER);
      }
      case 'boolean':
        return true;
      default:
        return validString(schema, name);
    }
  }

  function validString(schema: Schema, name: string): string {
    if (schema.format === 'uuid') return idFor(name);
    if (schema.format === 'email') return uniqueEmail('fuzz');
    if (schema.format === 'date-time') {
      if (name === 'from') return dayAfter(3, 0);
      if (name === 'to') return dayAfter(4, 0);
      if (name === 'end') return dayAfter(21, 12);
      if (name === 'expiresAt') return dayAfter(30, 0);
      return dayAfter(21, 10);
    }
    if (/password/i.test(name)) return TEST_PASSWORD;
    if (name === 'code') return '123456';
    if (name === 'slug') return `fz-${randomBytes(4).toString('hex')}`;
    if (name === 'timezone') return 'Europe/Paris';
    if (schema.pattern?.includes('A-Z]{3}')) return 'EUR';
    if (schema.pattern?.includes('[01][0-9]')) return name === 'end' ? '17:00' : '09:00';
    return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
  }

  function pathFor(op: Operation, override?: { param: string; value: string }): string {
    return op.path.replace(/\{([A-Za-z]+)\}/g, (_, param: string) => {
      if (override?.param === param) return encodeURIComponent(override.value);
      if (param === 'id') {
        const resource = /\/([a-z-]+)\/\{id\}/.exec(op.path)?.[1] ?? '';
        return ids[resource] ?? randomUUID();
      }
      return ids[param] ?? randomUUID();
    });
  }

  function validRequest(op: Operation, principal: Principal): Req {
    const query = op.query.filter((q) => q.required || q.name === 'limit').map((q) => `${q.name}=${encodeURIComponent(String(valid(q.schema, q.name)))}`);
    const url = pathFor(op) + (query.length > 0 ? `?${query.join('&')}` : '');
    const headers: Record<string, string> = { ...principal.headers };
    if (!op.body) return { method: op.method, url, headers };
    return { method: op.method, url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(valid(op.body, 'body')) };
  }

  // ---- the invariants -------------------------------------------------------------------------

  function check(res: LightMyRequestResponse, req: Req, principal: Principal, label: string): void {
    const where = `${label}: ${req.method} ${req.url.slice(0, 200)} as ${principal.name} (${(req.payload ?? '').slice(0, 200)}) → ${res.statusCode} ${res.body.slice(0, 300)}`;
    assert.ok(res.statusCode < 500, where);
    if (res.statusCode >= 400) {
      const body = res.json<Record<string, unknown>>();
      assert.ok(typeof body.code === 'string' && body.code in ERROR_CATALOGUE, `undocumented code: ${where}`);
      assert.equal(body.error, body.code, where);
      assert.equal(typeof body.message, 'string', where);
      assert.equal(body.requestId, res.headers['x-request-id'], where);
      assert.ok(typeof body.timestamp === 'string' && !Number.isNaN(Date.parse(body.timestamp)), where);
      // The catalogue's status, except where docs/errors.md documents the alternative (mfa_required 401 / 403).
      assert.ok(ERROR_CATALOGUE[body.code as keyof typeof ERROR_CATALOGUE].status === res.statusCode || body.code === 'mfa_required', `status of ${String(body.code)}: ${where}`);
    } else if (principal.name !== 'foreign_owner' && !req.url.startsWith('/api/public/')) {
      // A value the request itself carried may be echoed (a name, a rejected id in a list); anything else is a leak.
      const sent = `${req.url} ${req.payload ?? ''}`;
      for (const s of foreign) if (!sent.includes(s)) assert.ok(!res.body.includes(s), `foreign data (${s}) in ${where}`);
    }
  }

  /** Operations that would end a principal's session, delete tenant A or change a login. */
  function isDestructive(op: Operation): boolean {
    return (
      (op.method === 'DELETE' && op.path === '/api/tenants/{tenantId}') ||
      (op.method === 'DELETE' && op.path === '/api/auth/me') ||
      /^\/api\/auth\/(logout|password$|mfa\/totp|mfa\/backup-codes|sessions$)/.test(op.path)
    );
  }

  function expectedDenial(op: Operation, p: Principal): string | null {
    const policy = op.access;
    // A public route that also accepts a signed-in user checks a credential that is sent (ADR 0018).
    if (policy && 'public' in policy && policy.signedInOptional) return p.name === 'api_key' ? 'forbidden' : null;
    if (!policy || 'public' in policy || 'operator' in policy) return null;
    if (p.name === 'anonymous') return 'missing_authorization';
    if ('authenticated' in policy) return p.name === 'api_key' ? 'forbidden' : null;
    if ('superadmin' in policy) return 'forbidden';
    const permission = policy.permission;
    if (!op.path.startsWith('/api/tenants/{tenantId}')) return null;
    if (p.role === null) return 'tenant_mismatch';
    // A key's own scope: a tenant-wide permission also covers its `:own` form (ADR 0017).
    if (p.keyPermissions && !keyScopeCovers({ permissions: new Set(p.keyPermissions) }, permission)) return 'insufficient_permissions';
    if (!hasPermission(p.role, permission)) return 'insufficient_permissions';
    return p.name === 'api_key' && policy.apiKeys === false ? 'forbidden' : null;
  }

  test('valid requests: every operation as every principal, checked against the permission matrix', async () => {
    assert.ok(operations.length >= 60, `only ${operations.length} operations in /openapi.json`);
    assert.ok(operations.every((op) => op.access), 'every documented operation has a registered policy');
    let denied = 0;
    for (const op of operations) {
      for (const p of principals) {
        const expected = expectedDenial(op, p);
        if (isDestructive(op) && expected === null) continue;
        const req = validRequest(op, p);
        const res = await ctx.app.inject(req);
        check(res, req, p, 'valid');
        const code = res.statusCode >= 400 ? res.json<{ code: string }>().code : null;
        const where = `${op.method} ${op.path} as ${p.name} → ${res.statusCode} ${res.body.slice(0, 200)}`;
        if (expected) {
          denied += 1;
          assert.equal(code, expected, where);
        } else {
          if (!('public' in op.access!)) assert.notEqual(res.statusCode, 401, where);
          assert.ok(code !== 'tenant_mismatch' && code !== 'forbidden', where);
          if (code === 'insufficient_permissions' && op.access && 'permission' in op.access) {
            assert.notEqual(res.json<{ details?: { required?: string } }>().details?.required, op.access.permission, where);
          }
        }
      }
    }
    assert.ok(denied > 100, `the matrix refused only ${denied} requests`);
  });

  // CORS preflights (ADR 0014; ASVS 14.5.3): OPTIONS on every documented path, from the
  // first-party origin, a foreign one and malformed ones — never a 5xx, and allow headers only
  // for the first-party origin on non-public paths (no tenant lists an origin here).
  test('preflights: every path from allowed, foreign and malformed origins', async () => {
    const origins = [FIRST_PARTY_ORIGIN, 'https://evil.example.test', 'null', '*', `${FIRST_PARTY_ORIGIN}/`, 'HTTPS://APP.EXAMPLE.TEST', 'https://app.example.test:443'];
    for (const op of operations) {
      const { url } = validRequest(op, principals.at(-1)!);
      for (const origin of origins) {
        const res = await ctx.app.inject({
          method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': op.method, 'access-control-request-headers': 'authorization, content-type' },
        });
        const where = `OPTIONS ${url} from ${origin} → ${res.statusCode} ${res.body.slice(0, 200)}`;
        assert.ok(res.statusCode < 500, where);
        assert.match(String(res.headers.vary), /Origin/i, where);
        const allowed = origin === FIRST_PARTY_ORIGIN && !url.startsWith('/api/public/');
        assert.equal(res.headers['access-control-allow-origin'], allowed ? origin : undefined, where);
        if (allowed) assert.equal(res.statusCode, 204, where);
        else assert.ok(res.statusCode >= 400 && res.json<{ code: string }>().code in ERROR_CATALOGUE, where);
      }
    }
  });

  test('mutated requests: no 5xx, the documented error shape, no foreign data', async () => {
    const evilStrings = ['', 'x'.repeat(100_000), 'a\u0000b', '\u0000', '\ud800', '💥'.repeat(500), "' OR 1=1 --", '../../etc/passwd', '%00', '__proto__', 'true', '1e309'];
    const evilNumbers = [0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, -0];
    const evilDates = [
      '2026-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '+275760-09-13T00:00:00Z', '2026-02-30T10:00:00Z',
      '1969-12-31T23:59:59Z', '2026-03-24T10:00:00+01', '2026-03-24', '2026-03-24T10:00:00.123456789123Z',
    ];
    const evilOther: unknown[] = [null, true, [], {}, ['x'], { $ne: null }, [[[[[]]]]]];
    const evilValue = fc.oneof(
      fc.constantFrom(...evilStrings),
      fc.constantFrom(...evilNumbers),
      fc.constantFrom(...evilDates),
      fc.constantFrom(...evilIds),
      fc.constantFrom(...evilOther),
      fc.string({ maxLength: 40 }),
      fc.integer(),
      fc.double({ noNaN: true }),
    );
    const extraKeys = ['__proto__', 'constructor', 'prototype', 'tenantId', 'isSuperadmin', 'role', 'id', 'a\u0000'];
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('field' as const), pick: fc.nat(), value: evilValue }),
      fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('extra' as const), key: fc.constantFrom(...extraKeys), value: evilValue }),
      fc.record({ kind: fc.constant('body' as const), value: evilValue }),
      fc.record({ kind: fc.constant('path' as const), pick: fc.nat(), value: fc.oneof(fc.constantFrom(...evilIds), fc.constantFrom('', 'x'.repeat(600), 'a\u0000b', '\u0000', '%E0%A4%A')) }),
      fc.record({ kind: fc.constant('query' as const), name: fc.constantFrom('limit', 'cursor', 'from', 'to', 'serviceId', 'staffId', 'status', 'x'), value: evilValue }),
      fc.record({ kind: fc.constant('raw' as const), text: fc.constantFrom('{', '{"a":', '[', 'nul', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'), type: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded') }),
    );

    await fc.assert(
      fc.asyncProperty(fc.nat({ max: operations.length - 1 }), fc.nat({ max: principals.length - 1 }), mutation, async (oi, pi, m) => {
        const op = operations[oi]!;
        const p = principals[pi]!;
        // A destructive operation with a grant is only ever sent with a path the real target does not have.
        if (isDestructive(op) && expectedDenial(op, p) === null && (m.kind !== 'path' || op.pathParams.length === 0)) return;
        const req = mutate(validRequest(op, p), op, m);
        const res = await ctx.app.inject(req);
        check(res, req, p, `mutation ${m.kind}`);
      }),
      {
        seed: SEED,
        numRuns: RUNS,
        endOnFailure: true,
        // Counter-examples hold 100 kB strings: print their shape, not their bytes.
        reporter: (details) => {
          if (!details.failed) return;
          const shown = JSON.stringify(details.counterexample, (_, v: unknown) => (typeof v === 'string' && v.length > 200 ? `<${v.length} chars>` : v));
          const cause = details.errorInstance instanceof Error ? details.errorInstance.message.slice(0, 1500) : String(details.errorInstance);
          throw new Error(`fuzz failed (FUZZ_SEED=${details.seed}) after ${details.numRuns} runs: ${shown}\n${cause}`);
        },
      },
    );
    assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype pollution');
  });

  type Mutation =
    | { kind: 'field'; pick: number; value: unknown }
    | { kind: 'drop'; pick: number }
    | { kind: 'extra'; key: string; value: unknown }
    | { kind: 'body'; value: unknown }
    | { kind: 'path'; pick: number; value: unknown }
    | { kind: 'query'; name: string; value: unknown }
    | { kind: 'raw'; text: string; type: string };

  function mutate(req: Req, op: Operation, m: Mutation): Req {
    const json = (s: string) => ({ ...req, headers: { ...req.headers, 'content-type': 'application/json' }, payload: s });
    const body = (req.payload ? JSON.parse(req.payload) : {}) as Record<string, unknown>;
    const keys = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    const props = Object.keys(op.body?.properties ?? {});
    switch (m.kind) {
      case 'field': {
        const key = [...keys, ...props][m.pick % Math.max(keys.length + props.length, 1)] ?? 'x';
        return json(JSON.stringify({ ...body, [key]: m.value }));
      }
      case 'drop': {
        const key = keys[m.pick % Math.max(keys.length, 1)];
        const rest = Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));
        return json(JSON.stringify(rest));
      }
      case 'extra': {
        // Built as text: an object literal cannot carry an own `__proto__` key.
        const inner = JSON.stringify(body).slice(1, -1);
        return json(`{${inner}${inner ? ',' : ''}${JSON.stringify(m.key)}:${JSON.stringify(m.value) ?? 'null'}}`);
      }
      case 'body':
        return json(JSON.stringify(m.value) ?? 'null');
      case 'path': {
        const param = op.pathParams[m.pick % Math.max(op.pathParams.length, 1)];
        if (!param) return req;
        const [, query] = req.url.split('?');
        return { ...req, url: pathFor(op, { param, value: String(m.value) }) + (query ? `?${query}` : '') };
      }
      case 'query': {
        const [path, query] = req.url.split('?');
        const params = new URLSearchParams(query ?? '');
        params.set(m.name, typeof m.value === 'string' ? m.value : JSON.stringify(m.value) ?? '');
        return { ...req, url: `${path}?${params.toString()}` };
      }
      case 'raw':
        return { ...req, headers: { ...req.headers, 'content-type': m.type }, payload: m.text };
    }
  }
});
