/**
 * Issue 17 "Done means", end to end in a real headless Chromium (Debian `chromium` +
 * playwright-core). Three loopback origins and two sinks:
 * - the API on http://localhost:P1 (also PUBLIC_URL: the mailed link pages are served there);
 * - a minimal static booking widget on http://127.0.0.1:P2, the tenant's only `allowedOrigins`
 *   entry (CORS, ADR 0014). Its script lists slots in the visitor's zone (the browser context runs
 *   in America/New_York and the page sends Intl's zone), books as a guest with an
 *   `Idempotency-Key` it generated once (draft-ietf-httpapi-idempotency-key-header-06), and can
 *   replay that POST, which must answer the same reservation with `Idempotent-Replayed: true`;
 * - a real SMTP sink (`smtp-server`, parsed with `mailparser`) behind SMTP_URL: the confirmation
 *   mail carries an .ics (RFC 5545) and the confirm / manage links (token in the fragment,
 *   ASVS 4.0.3 3.1.1), which the test follows in Chromium to confirm, reschedule and cancel;
 * - a webhook receiver verifying every delivery with the `standardwebhooks` library; it answers 503
 *   to its first deliveries (an outage), so the job queue must retry, and each event must still
 *   arrive exactly once as a message (one webhook-id, verified), with no delivery after success.
 * Without Chromium the test is skipped, except under CI=true.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { simpleParser, type ParsedMail } from 'mailparser';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createBookingFixture, ok, type BookingFixture } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VISITOR_ZONE = 'America/New_York';
const TENANT_ZONE = 'Europe/Berlin';
/** Deliveries the receiver refuses with 503 before it recovers (the outage). */
const OUTAGE_DELIVERIES = 3;
const EVENTS = ['reservation.created', 'reservation.confirmed', 'reservation.rescheduled', 'reservation.cancelled'];

const missing = existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && process.env.CI === 'true') throw new Error(`${missing}: the booking web browser test cannot be skipped under CI=true`);

type Received = { headers: IncomingHttpHeaders; body: string; status: number };
type Reservation = { id: string; start: string; status: string };
type Slot = { start: string; localStart: string };

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, 'localhost', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function until<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The widget: plain DOM + fetch, served from its own origin; the page keeps one key per booking attempt. */
const widgetPage = (api: string, slug: string, serviceId: string, day: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Book</title></head><body>
<h1>Book a haircut</h1><p id="zone"></p><ul id="slots"></ul>
<form id="book" hidden><label>Name <input name="name" required></label><label>Email <input name="email" type="email" required></label><button>Book</button></form>
<p id="result" role="status"></p>
<script>
'use strict';
const API = ${JSON.stringify(api)}, SLUG = ${JSON.stringify(slug)}, SERVICE = ${JSON.stringify(serviceId)}, DAY = ${JSON.stringify(day)};
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
document.getElementById('zone').textContent = zone;
const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
let chosen = null;
window.lastBooking = null;
async function book(body) {
  const r = await fetch(API + '/api/public/tenants/' + SLUG + '/reservations', {
    method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body),
  });
  return { status: r.status, replayed: r.headers.get('idempotent-replayed'), body: await r.json() };
}
window.replayBooking = () => book(window.lastBooking);
fetch(API + '/api/public/tenants/' + SLUG + '/availability?' + new URLSearchParams({ serviceId: SERVICE, from: DAY, to: DAY, timeZone: zone, limit: '20' }))
  .then((r) => r.json()).then((page) => {
    const list = document.getElementById('slots');
    for (const s of page.slots) {
      const li = document.createElement('li'); const b = document.createElement('button');
      b.textContent = s.localStart; b.dataset.start = s.start;
      b.addEventListener('click', () => { chosen = s.start; document.getElementById('book').hidden = false; });
      li.append(b); list.append(li);
    }
  });
document.getElementById('book').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  window.lastBooking = { serviceId: SERVICE, start: chosen, customer: { name: f.get('name'), email: f.get('email') } };
  const r = await book(window.lastBooking);
  const out = document.getElementById('result');
  out.dataset.status = String(r.status); out.dataset.id = r.body.id || '';
  out.textContent = r.status === 201 ? 'Booked: ' + r.body.status + ' — check your mail' : (r.body.message || 'Error ' + r.status);
});
</script></body></html>`;

describe('booking widget, mail links and webhooks in headless Chromium (issue 17)', { skip: missing ?? false }, () => {
  let database: TestDatabase;
  let api: FastifyInstance;
  let browser: Browser;
  let apiOrigin: string;
  let widgetOrigin: string;
  let f: BookingFixture;
  let secret: string;
  let day: string;
  const servers: Server[] = [];
  const mails: ParsedMail[] = [];
  const received: Received[] = [];
  let smtp: SMTPServer;
  const guestEmail = `guest-${randomBytes(4).toString('hex')}@guests.example.test`;

  before(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, done) {
        simpleParser(stream).then((m) => { mails.push(m); done(); }, (err: Error) => done(err));
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;

    let refused = 0;
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const status = refused < OUTAGE_DELIVERIES ? 503 : 204;
        if (status === 503) refused += 1;
        received.push({ headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    servers.push(receiver);
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

    const apiPort = await freePort();
    apiOrigin = `http://localhost:${apiPort}`;
    database = await createTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url'),
      INVITATIONS_PER_INVITER_PER_HOUR: '0', INVITATIONS_PER_TENANT_PER_HOUR: '0',
      PUBLIC_URL: apiOrigin, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'Boka <bookings@boka.example.test>',
      JOBS_POLL_MS: '50', WEBHOOK_BACKOFF_BASE_MS: '50', WEBHOOK_TIMEOUT_MS: '5000',
    }, { databaseUrl: database.url });
    api = await buildApp(config, { db: database.db });
    await api.listen({ host: 'localhost', port: apiPort });

    f = await createBookingFixture(api, { timezone: TENANT_ZONE });
    day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const widget = createServer((req, res) => {
      const html = req.url === '/' ? widgetPage(apiOrigin, f.tenant.slug, f.serviceId, day) : undefined;
      res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(html ?? 'not found');
    });
    await new Promise<void>((resolve) => widget.listen(0, '127.0.0.1', resolve));
    servers.push(widget);
    widgetOrigin = `http://127.0.0.1:${(widget.address() as AddressInfo).port}`;
    await ok(api, f.owner, 'PATCH', `${f.base}/settings`, { allowedOrigins: [widgetOrigin] });
    const hook = await ok<{ secret: string }>(api, f.owner, 'POST', `${f.base}/webhooks`, { url: receiverUrl, events: [...EVENTS, 'reservation.completed'] });
    secret = hook.secret;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    await database?.drop();
  });

  const mailsTo = (email: string) => mails.filter((m) => m.to && !Array.isArray(m.to) && m.to.value.some((a) => a.address === email));
  const linkIn = (m: ParsedMail, page: 'manage' | 'confirm') => new RegExp(`${apiOrigin}/booking/${page}#token=[A-Za-z0-9_.-]+`).exec(m.text ?? '')?.[0];
  const verified = () => received.filter((r) => r.status === 204).map((r) => ({ id: String(r.headers['webhook-id']), payload: new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as { type: string; data: { reservationId: string } } }));

  const consoleErrors: string[] = [];
  /** Opens a mailed link in a new tab, as a mail client does (a same-path fragment change would not reload the page). */
  async function followLink(context: BrowserContext, link: string, flow: 'confirm' | 'cancel' | 'reschedule', start?: string): Promise<string> {
    const page = await context.newPage();
    // (The app serves no /favicon.ico: that one 404 is expected; a CSP violation or a failed fetch is not.)
    page.on('console', (m) => { if (m.type() === 'error' && !(m.text().includes('404') && m.location().url.endsWith('/favicon.ico'))) consoleErrors.push(`link page: ${m.text()} ${m.location().url}`); });
    await page.goto(link);
    // The page's script drops the token from the address bar (history.replaceState).
    await until('the token to leave the address bar', async () => (await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)) === '', 10_000).catch((err: Error) => {
      throw new Error(`${err.message}; console: ${JSON.stringify(consoleErrors)}`);
    });
    if (flow !== 'confirm') await until('the manage page shows the booking', async () => /\(\w+\)$/.test((await page.textContent('[data-flow="manage"]')) ?? ''));
    if (start) await page.fill('form[data-flow="reschedule"] input[name="start"]', start);
    await page.click(`form[data-flow="${flow}"] button`);
    return until(`the ${flow} answer`, async () => (await page.textContent('#out'))?.trim());
  }

  it('lists slots in the visitor\'s zone, books once despite a replay, and the mailed links confirm, reschedule and cancel; webhooks arrive once each', { timeout: 180_000 }, async () => {
    const context = await browser.newContext({ timezoneId: VISITOR_ZONE });
    try {
      const page = await context.newPage();
      page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      await page.goto(`${widgetOrigin}/`);
      assert.equal(await page.textContent('#zone'), VISITOR_ZONE);

      // Slots: localStart is the UTC start as wall time in New York (date-only range = that local day).
      await page.waitForSelector('#slots button');
      const slots: Slot[] = await page.$$eval('#slots button', (bs) => bs.map((b) => ({ start: (b as unknown as { dataset: Record<string, string | undefined> }).dataset.start ?? '', localStart: b.textContent ?? '' })));
      assert.ok(slots.length >= 2, `slots: ${JSON.stringify(slots)}`);
      const nyWall = (iso: string) => {
        const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: VISITOR_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
        return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
      };
      for (const s of slots) {
        assert.equal(s.localStart.slice(0, 16), nyWall(s.start), JSON.stringify(s));
        assert.match(s.localStart, /-0[45]:00$/, 'New York offset');
        assert.equal(Date.parse(s.localStart), Date.parse(s.start));
      }
      // The staff works 09:00–17:00 Berlin: the first slot is 09:00 in Berlin, shown in New York time.
      assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: TENANT_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(slots[0]!.start)), '09:00');

      // Book the first slot as a guest.
      await page.click('#slots button');
      await page.fill('#book input[name="name"]', 'Robin Web');
      await page.fill('#book input[name="email"]', guestEmail);
      await page.click('#book button');
      await until('the booking answer', async () => (await page.getAttribute('#result', 'data-status')) ?? null);
      assert.equal(await page.getAttribute('#result', 'data-status'), '201', await page.textContent('#result') ?? '');
      const reservationId = (await page.getAttribute('#result', 'data-id'))!;
      assert.match(reservationId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.match((await page.textContent('#result'))!, /^Booked: pending/);

      // A retried POST (same key, same body) from the page: same reservation, marked as replayed.
      const replay = await page.evaluate(() => (globalThis as unknown as { replayBooking: () => Promise<{ status: number; replayed: string | null; body: Reservation }> }).replayBooking());
      assert.deepEqual({ status: replay.status, replayed: replay.replayed, id: replay.body.id }, { status: 201, replayed: 'true', id: reservationId });
      const all = await ok<{ items: Reservation[] }>(api, f.owner, 'GET', `${f.base}/reservations?limit=100`);
      assert.equal(all.items.length, 1, 'one reservation, not two');
      assert.equal(all.items[0]!.start, slots[0]!.start);

      // The confirmation mail went through SMTP: an .ics and the confirm / manage links.
      const first = await until('the booking mail', () => mailsTo(guestEmail)[0]);
      const ics = first.attachments.find((a) => a.contentType === 'text/calendar' || a.filename?.endsWith('.ics'));
      assert.ok(ics, `an .ics attachment: ${JSON.stringify(first.attachments.map((a) => [a.filename, a.contentType]))}`);
      assert.match(ics.content.toString('utf8'), /BEGIN:VCALENDAR[\s\S]*BEGIN:VEVENT[\s\S]*END:VCALENDAR/);
      const confirmLink = linkIn(first, 'confirm');
      const manageLink = linkIn(first, 'manage');
      assert.ok(confirmLink && manageLink, first.text);

      // Confirm through the mailed page.
      assert.match(await followLink(context, confirmLink, 'confirm'), /\(confirmed\)$/);

      // Reschedule through the manage page to a later free slot of the same day.
      const free = await ok<{ slots: Slot[] }>(api, null, 'GET', `/api/public/tenants/${f.tenant.slug}/availability?serviceId=${f.serviceId}&from=${day}&to=${day}&timeZone=${encodeURIComponent(TENANT_ZONE)}&limit=50`);
      const newStart = free.slots.at(-1)!.start;
      assert.notEqual(newStart, slots[0]!.start);
      const moved = await followLink(context, manageLink, 'reschedule', newStart);
      assert.match(moved, /\((confirmed|pending)\)$/, moved);
      assert.ok(moved.includes(newStart.replace('.000Z', '')) || moved.includes(newStart), moved);
      assert.equal((await ok<Reservation>(api, f.owner, 'GET', `${f.base}/reservations/${reservationId}`)).start, newStart);

      // The old link is used up; the reschedule mail carries the new one, which cancels.
      const second = await until('the reschedule mail', () => mailsTo(guestEmail).find((m) => { const l = linkIn(m, 'manage'); return l && l !== manageLink ? m : null; }));
      const cancelled = await followLink(context, linkIn(second, 'manage')!, 'cancel');
      assert.match(cancelled, /\(cancelled\)$/, cancelled);
      assert.equal((await ok<Reservation>(api, f.owner, 'GET', `${f.base}/reservations/${reservationId}`)).status, 'cancelled');

      // Webhooks: the outage was real (503s), then every event arrived, verified, exactly once.
      const got = await until('every event delivered', () => { const v = verified(); return EVENTS.every((e) => v.some((d) => d.payload.type === e)) ? v : null; }, 60_000);
      assert.ok(received.filter((r) => r.status === 503).length === OUTAGE_DELIVERIES, 'the receiver refused the first deliveries');
      // More polls and backoff periods pass: nothing arrives twice after success.
      await new Promise((r) => setTimeout(r, 1500));
      const final = verified();
      assert.equal(final.length, got.length);
      assert.deepEqual(final.map((d) => d.payload.type).sort(), [...EVENTS].sort());
      assert.equal(new Set(final.map((d) => d.id)).size, final.length, 'one successful delivery per webhook-id');
      for (const d of final) assert.equal(d.payload.data.reservationId, reservationId);
      // Every refused attempt was a message that later succeeded under the same id (a retry, not a new message).
      for (const r of received.filter((x) => x.status === 503)) {
        new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
        assert.ok(final.some((d) => d.id === r.headers['webhook-id']), 'a refused message was retried to success');
      }
      // Secrets stay out of the mail and the page.
      assert.ok(!JSON.stringify(mails.map((m) => m.text)).includes(secret));
      assert.deepEqual(consoleErrors, []);
    } finally {
      await context.close();
    }
  });
});
