#!/usr/bin/env node
// The API contract every release must keep answering the same way (ADR 0011): the N-1 gate
// runs it from the CURRENT tree against the PREVIOUS release's server on a database the current
// release migrated. Plain Node (no TypeScript, no dependencies), so it runs against any build.
//   node scripts/api-contract.mjs http://127.0.0.1:3000
// Exit 0 when every step answers as the contract says; 1 otherwise, one line per step.
import { randomUUID } from 'node:crypto';

const base = process.argv[2];
if (!base) {
  console.error('usage: node scripts/api-contract.mjs <base-url>');
  process.exit(2);
}

const results = [];
const id = randomUUID().slice(0, 8);

async function call(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(new URL(path, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, body: json };
}

/** One contract step: the status, then the fields the response must carry (with their types). */
async function step(name, expected, run, fields = {}) {
  try {
    const res = await run();
    const problems = [];
    if (res.status !== expected) problems.push(`status ${res.status}, expected ${expected}${res.body?.code ? ` (${res.body.code})` : ''}`);
    else {
      for (const [path, type] of Object.entries(fields)) {
        const value = path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), res.body);
        const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
        if (actual !== type) problems.push(`${path}: ${actual}, expected ${type}`);
      }
    }
    results.push({ name, ok: problems.length === 0, detail: problems.join('; ') });
    return problems.length === 0 ? res.body : null;
  } catch (error) {
    results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

const email = `contract+${id}@boka.invalid`;
const password = `Contract-${id}-pw-1!`;
const tokenFields = { accessToken: 'string', refreshToken: 'string', expiresIn: 'number', sessionId: 'string', 'user.id': 'string', 'user.email': 'string' };

async function run() {
  if (!(await step('sign-up', 201, () => call('POST', '/api/auth/signup', { body: { email, password, name: `Contract ${id}` } }), tokenFields))) return;
  const login = await step('login', 200, () => call('POST', '/api/auth/login', { body: { email, password } }), tokenFields);
  if (!login) return;
  const token = login.accessToken;
  await step('me', 200, () => call('GET', '/api/auth/me', { token }), { 'user.id': 'string', memberships: 'array', 'session.id': 'string' });
  await step('refresh', 200, () => call('POST', '/api/auth/refresh', { body: { refreshToken: login.refreshToken } }), tokenFields);
  const tenant = await step('create tenant', 201, () => call('POST', '/api/tenants', { token, body: { name: `Contract ${id}`, slug: `contract-${id}` } }), { id: 'string', slug: 'string' });
  if (!tenant) return;
  const t = `/api/tenants/${tenant.id}`;
  await step('read tenant', 200, () => call('GET', t, { token }), { id: 'string', name: 'string' });
  await step('anonymous refused', 401, () => call('GET', t), { code: 'string' });
  const service = await step('create service', 201, () => call('POST', `${t}/services`, { token, body: { name: 'Contract cut', durationMinutes: 30, bufferMinutes: 0, priceCents: 1000, currency: 'EUR' } }), { id: 'string', durationMinutes: 'number' });
  const staff = await step('create staff', 201, () => call('POST', `${t}/staff`, { token, body: { displayName: 'Contract staff' } }), { id: 'string' });
  if (!service || !staff) return;
  await step('staff services', 200, () => call('PUT', `${t}/staff/${staff.id}/services`, { token, body: { serviceIds: [service.id] } }));
  await step('staff hours', 200, () => call('PUT', `${t}/staff/${staff.id}/hours`, { token, body: { hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '09:00', end: '17:00' })) } }));
  const customer = await step('create customer', 201, () => call('POST', `${t}/customers`, { token, body: { name: 'Casey', email: `casey-${id}@example.test` } }), { id: 'string' });
  // Two days ahead, whole UTC day: clear of any lead time or cutoff the defaults set.
  const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  const range = `serviceId=${service.id}&from=${day}T00:00:00Z&to=${day}T23:59:00Z`;
  const availability = await step('availability', 200, () => call('GET', `${t}/availability?${range}`, { token }), { slots: 'array' });
  const slot = availability?.slots?.[0];
  if (!slot || !customer) {
    results.push({ name: 'a free slot to book', ok: false, detail: 'availability returned no slot' });
    return;
  }
  const booking = await step('booking', 201, () => call('POST', `${t}/reservations`, { token, body: { serviceId: service.id, staffId: slot.staffId, customerId: customer.id, start: slot.start } }), { id: 'string', status: 'string', start: 'string' });
  if (!booking) return;
  await step('double booking refused', 409, () => call('POST', `${t}/reservations`, { token, body: { serviceId: service.id, staffId: slot.staffId, customerId: customer.id, start: slot.start } }), { code: 'string' });
  const cancelled = await step('cancel', 200, () => call('PATCH', `${t}/reservations/${booking.id}`, { token, body: { status: 'cancelled' } }), { status: 'string' });
  if (cancelled && cancelled.status !== 'cancelled') results.push({ name: 'cancel status', ok: false, detail: `status ${cancelled.status}` });
  await step('public availability', 200, () => call('GET', `/api/public/tenants/${tenant.slug}/availability?${range}`), { slots: 'array' });
}

await run();
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} contract ${r.name}${r.ok ? '' : `: ${r.detail}`}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`api contract against ${base}: ${results.length - failed}/${results.length} steps as expected`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
