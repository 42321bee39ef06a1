import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createWriteBehind } from '../../src/shared/write-behind.js';

/** A batch writer that records what it was given and can be held mid-write. */
function recorder() {
  const batches: Array<Record<string, number>> = [];
  let active = 0;
  let maxActive = 0;
  let hold: Promise<void> | null = null;
  let release = () => {};
  let fail: Error | null = null;
  return {
    batches,
    maxActive: () => maxActive,
    holdNext() {
      hold = new Promise((r) => (release = r));
    },
    release: () => release(),
    failNext(err: Error) {
      fail = err;
    },
    async write(batch: ReadonlyMap<string, number>) {
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        if (hold) await hold;
        hold = null;
        if (fail) {
          const err = fail;
          fail = null;
          throw err;
        }
        batches.push(Object.fromEntries(batch));
      } finally {
        active -= 1;
      }
    },
  };
}

const HOUR = 3_600_000; // long enough that only flush() writes, unless a test wants the timer

describe('write-behind (ADR 0030)', () => {
  test('values recorded between two batches are written once each, the newest kept', async () => {
    const r = recorder();
    const w = createWriteBehind<number>({ intervalMs: HOUR, write: r.write, newer: Math.max, onError: assert.fail });
    w.set('a', 1);
    w.set('a', 3);
    w.set('a', 2); // older than what waits: kept out
    w.set('b', 5);
    assert.equal(w.size, 2);
    await w.flush();
    assert.deepEqual(r.batches, [{ a: 3, b: 5 }]);
    assert.equal(w.size, 0);
    await w.flush(); // nothing waits: no empty batch
    assert.equal(r.batches.length, 1);
  });

  test('a value stays visible while its batch is being written, and one batch is written at a time', async () => {
    const r = recorder();
    const w = createWriteBehind<number>({ intervalMs: HOUR, write: r.write, newer: Math.max, onError: assert.fail });
    w.set('a', 1);
    r.holdNext();
    const first = w.flush();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(w.get('a'), 1, 'a reader reloading the row meanwhile must still see the value');
    w.set('a', 2);
    w.set('b', 7);
    const second = w.flush();
    assert.equal(w.get('a'), 2);
    r.release();
    await Promise.all([first, second]);
    assert.deepEqual(r.batches, [{ a: 1 }, { a: 2, b: 7 }]);
    assert.equal(r.maxActive(), 1, 'two batches were written concurrently');
    assert.equal(w.get('a'), undefined);
  });

  test('the timer writes what waits without anyone calling flush', async () => {
    // The timer is unref'd (it keeps no process alive); this one keeps the test's loop running.
    const alive = setInterval(() => {}, 1000);
    const written = new Promise<ReadonlyMap<string, number>>((resolve) => {
      const w = createWriteBehind<number>({ intervalMs: 5, write: async (b) => resolve(b), newer: Math.max, onError: assert.fail });
      w.set('a', 1);
    });
    assert.deepEqual(Object.fromEntries(await written), { a: 1 });
    clearInterval(alive);
  });

  test('a failed batch is reported and dropped; the next one is written', async () => {
    const r = recorder();
    const errors: unknown[] = [];
    const w = createWriteBehind<number>({ intervalMs: HOUR, write: r.write, newer: Math.max, onError: (e) => errors.push(e) });
    w.set('a', 1);
    r.failNext(new Error('database gone'));
    await w.flush(); // resolves: a failed batch never rejects a caller
    assert.equal(errors.length, 1);
    assert.equal(w.get('a'), undefined);
    w.set('b', 2);
    await w.flush();
    assert.deepEqual(r.batches, [{ b: 2 }]);
  });

  test('delete forgets a waiting value; close writes what waits', async () => {
    const r = recorder();
    const w = createWriteBehind<number>({ intervalMs: HOUR, write: r.write, newer: Math.max, onError: assert.fail });
    w.set('gone', 1);
    w.delete('gone');
    w.set('kept', 2);
    await w.close();
    assert.deepEqual(r.batches, [{ kept: 2 }]);
  });
});
