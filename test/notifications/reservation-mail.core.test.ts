import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderReservationMail, type ReservationMailKind } from '../../src/notifications/reservation-mail.core.js';

const NOW = Date.parse('2026-03-20T08:00:00Z');
const reservation = { id: '0b8c5f0e-2d7e-4b8e-9f0a-3c1d2e4f5a6b', start: '2026-03-24T09:00:00.000Z', end: '2026-03-24T09:30:00.000Z', status: 'confirmed', notes: null, sequence: 2 };
const tenant = { name: 'Salon Nord', timezone: 'Europe/Berlin', email: 'bookings@boka.example' };

function render(kind: ReservationMailKind, over: { name?: string; notes?: string | null; tenantName?: string; sequence?: number } = {}) {
  return renderReservationMail(
    kind,
    { ...reservation, notes: over.notes ?? null, sequence: over.sequence ?? reservation.sequence },
    { ...tenant, name: over.tenantName ?? tenant.name },
    { name: 'Haircut' },
    { name: 'Alex' },
    { name: over.name ?? 'Casey', email: 'casey@example.test' },
    'https://book.example.com',
    NOW,
  );
}

/** RFC 5545 §3.1: unfold continuation lines (CRLF + one space or tab). */
function unfold(ics: string): string[] {
  return ics.replace(/\r\n[ \t]/g, '').split('\r\n').filter((l) => l.length > 0);
}

describe('renderReservationMail', () => {
  test('names and notes cannot inject HTML (every value escaped in the HTML part)', () => {
    const evil = '<img src=x onerror=alert(1)>"&\'';
    const m = render('confirmed', { name: evil, notes: `<script>alert(2)</script>`, tenantName: '<b>T</b>' });
    assert.ok(!m.html.includes('<img'), m.html);
    assert.ok(!m.html.includes('<script'), m.html);
    assert.ok(!m.html.includes('<b>T</b>'), m.html);
    assert.ok(m.html.includes('&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;'), m.html);
    assert.ok(m.html.includes('&lt;script&gt;alert(2)&lt;/script&gt;'));
    // The text part is plain text: the value appears as typed.
    assert.ok(m.text.includes(evil));
  });

  test("the time is shown in the tenant's zone, and the zone is named", () => {
    const m = render('confirmed');
    // 09:00 UTC on 24 March 2026 is 10:00 in Berlin (CET, UTC+1).
    assert.match(m.text, /Tuesday,? 24 March 2026 at 10:00 \(Europe\/Berlin\)/);
    assert.match(m.html, /10:00 \(Europe\/Berlin\)/);
  });

  test('the .ics is a REQUEST with UTC DTSTART, stable UID, SEQUENCE, ORGANIZER and ATTENDEE (RFC 5545, RFC 5546 §3.2.2)', () => {
    const m = render('confirmed');
    assert.equal(m.icsMethod, 'REQUEST');
    assert.ok(m.ics.startsWith('BEGIN:VCALENDAR\r\n'));
    assert.ok(m.ics.trimEnd().endsWith('END:VCALENDAR'));
    for (const raw of m.ics.split('\r\n')) assert.ok(Buffer.byteLength(raw) <= 75, `folded at 75 octets: ${raw}`);
    const lines = unfold(m.ics);
    assert.ok(lines.includes('VERSION:2.0'));
    assert.ok(lines.includes('METHOD:REQUEST'));
    assert.ok(lines.includes(`UID:${reservation.id}@book.example.com`));
    assert.ok(lines.includes('SEQUENCE:2'));
    assert.ok(lines.includes('DTSTART:20260324T090000Z'), lines.join('\n'));
    assert.ok(lines.includes('DTEND:20260324T093000Z'));
    assert.ok(lines.includes('DTSTAMP:20260320T080000Z'));
    assert.ok(lines.includes('STATUS:CONFIRMED'));
    assert.ok(lines.some((l) => l.startsWith('ORGANIZER;CN="Salon Nord":mailto:bookings@boka.example')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('ATTENDEE;') && l.endsWith(':MAILTO:casey@example.test')) || lines.some((l) => l.startsWith('ATTENDEE;') && l.toLowerCase().endsWith(':mailto:casey@example.test')), lines.join('\n'));
    assert.ok(lines.includes('X-WR-TIMEZONE:Europe/Berlin'));
    assert.equal(lines.filter((l) => l === 'BEGIN:VEVENT').length, 1);
  });

  test('a cancellation is METHOD:CANCEL with the same UID and STATUS:CANCELLED (RFC 5546 §3.2.5)', () => {
    const c = unfold(render('cancelled', { sequence: 3 }).ics);
    assert.ok(c.includes('METHOD:CANCEL'));
    assert.ok(c.includes('STATUS:CANCELLED'));
    assert.ok(c.includes('SEQUENCE:3'));
    assert.ok(c.includes(`UID:${reservation.id}@book.example.com`));
  });

  test('text values are escaped in the .ics (RFC 5545 §3.3.11): a name cannot add properties', () => {
    const lines = unfold(render('changed', { tenantName: 'Evil\r\nATTENDEE:mailto:x@evil.test;,' }).ics);
    assert.ok(!lines.some((l) => l === 'ATTENDEE:mailto:x@evil.test;,'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('ATTENDEE:mailto:x@evil')));
  });

  test('each kind has its own subject', () => {
    const subjects = (['pending', 'confirmed', 'changed', 'cancelled', 'reminder'] as const).map((k) => render(k).subject);
    assert.equal(new Set(subjects).size, 5);
  });
});
