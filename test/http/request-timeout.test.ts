import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestContext } from '../helpers/app.js';

/**
 * Issue 12 (low): REQUEST_TIMEOUT_MS covers the whole request, headers and body, so a client that
 * sends half a body and waits cannot hold a connection (Node's default check runs every 30 s and
 * let such a request live ≈ 90 s). Not a timing assertion: the bound is 20× the setting.
 */
describe('request timeout covers the body', () => {
  let ctx: TestContext;
  let port: number;
  before(async () => {
    ctx = await createTestApp({ env: { REQUEST_TIMEOUT_MS: '500' } });
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    port = (ctx.app.server.address() as AddressInfo).port;
  });
  after(() => ctx.close());

  function holdHalfARequest(head: string, partial: string): Promise<{ ended: boolean; response: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      let response = '';
      // The give-up bound: well before 90 s, far above REQUEST_TIMEOUT_MS.
      const giveUp = setTimeout(() => {
        socket.destroy();
        resolve({ ended: false, response });
      }, 10_000);
      socket.on('data', (chunk) => (response += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(giveUp);
        resolve({ ended: true, response });
      });
      socket.on('connect', () => socket.write(head + partial));
      socket.on('timeout', () => reject(new Error('unexpected socket timeout')));
    });
  }

  test('headers + half a body, then silence: the server ends the request well before 90 s', async () => {
    const body = JSON.stringify({ email: 'slow@example.test', password: 'correct horse battery staple' });
    const head = `POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const result = await holdHalfARequest(head, body.slice(0, body.length / 2));
    assert.ok(result.ended, `connection still open after 10 s (response so far: ${JSON.stringify(result.response)})`);
  });

  test('half the headers, then silence: ended too', async () => {
    const result = await holdHalfARequest('GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', '');
    assert.ok(result.ended, 'connection still open after 10 s');
  });
});
