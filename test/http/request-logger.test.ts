import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { lazyRequestLogger } from '../../src/http/request-logger.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { captureLogLines as capture } from '../helpers/doubles.js';

// The per-request logger is built lazily (issue 16); what it writes must not change.
describe('request logger', () => {
  test('builds no child for a request that logs nothing at an enabled level, and the child it builds carries reqId', () => {
    const { lines, stream } = capture();
    const parent = pino({ level: 'warn', redact: { paths: ['password'], censor: '[redacted]' } }, stream);
    let children = 0;
    const child = parent.child;
    parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
      children += 1;
      return child.apply(this, args);
    } as typeof parent.child;

    const quiet = lazyRequestLogger(parent, { reqId: 'r-1' }, {});
    quiet.info({ password: 'x' }, 'below the level');
    quiet.debug('below the level');
    assert.equal(children, 0, 'no child for lines below the level');
    assert.equal(quiet.level, 'warn');

    const loud = lazyRequestLogger(parent, { reqId: 'r-2' }, {});
    loud.warn({ password: 'hunter2' }, 'first');
    loud.error('second %s', 'arg');
    assert.equal(children, 1, 'one child, built on the first enabled line');
    children = 0;
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[0]!.reqId, lines[0]!.password, lines[0]!.msg], ['r-2', '[redacted]', 'first']);
    assert.deepEqual([lines[1]!.reqId, lines[1]!.msg], ['r-2', 'second arg']);

    const nested = loud.child({ step: 'x' });
    nested.warn('nested');
    assert.deepEqual([lines[2]!.reqId, lines[2]!.step], ['r-2', 'x']);
  });

  describe('in the app', () => {
    const { lines, stream } = capture();
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestApp({ env: { LOG_LEVEL: 'info' }, deps: { logStream: stream } });
    });
    after(() => ctx.close());

    test('one line per request with reqId, requestId, route and status, as before', async () => {
      const res = await ctx.app.inject({ method: 'GET', url: '/api/health', headers: { 'x-request-id': 'trace-me-1' } });
      assert.equal(res.statusCode, 200);
      const mine = lines.filter((l) => l.reqId === 'trace-me-1');
      assert.equal(mine.length, 1, JSON.stringify(mine));
      const line = mine[0]!;
      assert.deepEqual(
        [line.msg, line.requestId, line.method, line.route, line.status, line.principal, line.tenantId],
        ['request', 'trace-me-1', 'GET', '/api/health', 200, null, null],
      );
      assert.equal(typeof line.durationMs, 'number');
      assert.equal(typeof line.version, 'string');
    });
  });
});
