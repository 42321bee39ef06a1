import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMailTransport } from '../../src/mail/index.js';

test('the development log transport names attachments but never prints their content', async () => {
  const lines: string[] = [];
  const transport = createMailTransport({ smtpUrl: undefined, mailFrom: 'x@boka.example', env: 'development' }, (l) => lines.push(l));
  await transport.send({
    to: 'a@example.test',
    subject: 'Your booking',
    text: 'Hello',
    attachments: [{ filename: 'booking.ics', contentType: 'text/calendar; method=REQUEST', content: 'BEGIN:VCALENDAR\r\nSECRET-MARKER\r\nEND:VCALENDAR' }],
  });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.includes('[attachment booking.ics, text/calendar; method=REQUEST,'));
  assert.ok(!lines[0]!.includes('SECRET-MARKER'));
});
