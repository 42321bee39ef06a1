import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildHistoryPage } from '../../../src/rollout/control/history.core.js';
import { createEventLog } from '../../../src/rollout/event-log.js';

const dir = mkdtempSync(join(tmpdir(), 'boka-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An event log written the way the controller writes it (observation, decision, command, …). */
function sampleLog() {
  const log = createEventLog(join(dir, `${Math.random().toString(36).slice(2)}.jsonl`));
  log.append('decision', 1_000, { kind: 'started', message: 'rollout started', phase: 'preflight', step: -1, weight: 0 });
  log.append('observation', 2_000, {
    phase: 'progressing',
    step: 0,
    weight: 10,
    windowMs: 5_000,
    green: { requests: 50, metrics: { error_rate: { value: 0.02, samples: 50 }, p95_latency_ms: { value: 120, samples: 50 } } },
    blue: { requests: 450, metrics: { error_rate: { value: 0.001, samples: 450 } } },
    errors: ['scrape green http://127.0.0.1:1/metrics: HTTP 404'],
  });
  log.append('decision', 2_001, {
    errors: ['prometheus: timeout'],
    kind: 'hold',
    message: 'error-rate pending',
    phase: 'progressing',
    step: 0,
    weight: 10,
    evaluations: [{ rule: 'error-rate', status: 'pending', stats: { samples: 50, confidence: 0.99, bound: 0.011 }, why: 'green 2 %' }],
  });
  log.append('lease', 2_002, { holder: 'x' });
  log.append('command', 2_500, { command: 'rollback', by: 'alice', force: true });
  log.append('webhook', 2_600, { url: 'https://hooks.example', event: 'rollback', ok: false, detail: 'HTTP 500' });
  return log;
}

describe('dashboard history (buildHistoryPage)', () => {
  it('turns observations into per-colour rate, error rate and p95 points; missing values are null', () => {
    const page = buildHistoryPage(sampleLog().readAll(), 0, 100);
    assert.equal(page.evaluations.length, 1);
    const [point] = page.evaluations;
    assert.equal(point?.seq, 2);
    assert.equal(point?.weight, 10);
    assert.deepEqual(point?.green, { requests: 50, requestRate: 10, errorRate: 0.02, p95Ms: 120 });
    assert.deepEqual(point?.blue, { requests: 450, requestRate: 90, errorRate: 0.001, p95Ms: null });
    assert.deepEqual(point?.errors, ['scrape green http://127.0.0.1:1/metrics: HTTP 404']);
  });

  it('keeps decisions with every field of their rule evaluations, and readable lines for commands and webhooks', () => {
    const page = buildHistoryPage(sampleLog().readAll(), 0, 100);
    assert.deepEqual(page.log.map((e) => e.kind), ['started', 'hold', 'command', 'webhook']);
    assert.deepEqual(page.log[1]?.evaluations, [{ rule: 'error-rate', status: 'pending', stats: { samples: 50, confidence: 0.99, bound: 0.011 }, why: 'green 2 %' }]);
    assert.deepEqual(page.log[1]?.errors, ['prometheus: timeout']);
    assert.equal(page.log[0]?.errors, undefined);
    assert.equal(page.log[2]?.message, 'rollback by alice (force)');
    assert.equal(page.log[3]?.message, 'webhook rollback → failed: HTTP 500');
  });

  it('pages by seq: `limit` events at most, `more` while some wait, nothing new after the last seq', () => {
    const events = sampleLog().readAll();
    const first = buildHistoryPage(events, 0, 2);
    assert.deepEqual([first.lastSeq, first.more, first.evaluations.length, first.log.length], [2, true, 1, 1]);
    const second = buildHistoryPage(events, first.lastSeq, 2);
    assert.deepEqual([second.lastSeq, second.more, second.log.map((e) => e.kind)], [4, true, ['hold']]);
    const rest = buildHistoryPage(events, second.lastSeq, 100);
    assert.deepEqual([rest.lastSeq, rest.more, rest.log.map((e) => e.kind)], [6, false, ['command', 'webhook']]);
    const none = buildHistoryPage(events, 6, 100);
    assert.deepEqual(none, { evaluations: [], log: [], lastSeq: 6, more: false });
  });
});
