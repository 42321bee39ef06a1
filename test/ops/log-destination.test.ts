import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';

const LINES = 20_000;

/**
 * The log destination never blocks the server on a slow stdout reader (src/ops/log-destination.ts,
 * ADR 0027). pino's synchronous default sleeps 100 ms per EAGAIN on a full pipe and retries, so
 * this child would never report while nobody reads its stdout, and the test would time out.
 * Lines beyond the buffer are dropped and counted; nothing else is lost, and no line is torn.
 */
describe('log destination: a stuck stdout reader', () => {
  it('costs counted log lines, never the event loop; the rest arrives whole at exit', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./helpers/log-flood.ts', import.meta.url).pathname], {
      stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
      env: { ...process.env, LINES: String(LINES), MAX_BYTES: String(256 * 1024) },
    });
    // stdout is not read until the child has reported: its pipe (64 KiB) fills at once.
    const report = JSON.parse(String((await once(child.stdio[3]!, 'data'))[0])) as { drops: number };
    assert.ok(report.drops > 0, 'lines past the 256 KiB buffer are dropped');
    assert.ok(report.drops < LINES, 'what fits in the buffer is kept');

    const chunks: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    // 'close': the process has exited and its stdout has been read to the end.
    const closed = once(child, 'close');
    child.stdin!.end();
    const [code] = (await closed) as [number];
    assert.equal(code, 0);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
    const parsed = lines.map((l) => JSON.parse(l) as { i: number });
    assert.equal(parsed.length, LINES - report.drops, 'every line not counted as dropped arrives');
    for (let k = 1; k < parsed.length; k++) assert.ok(parsed[k]!.i > parsed[k - 1]!.i, 'in order');
  });
});
