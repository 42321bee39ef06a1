/**
 * Write-behind for "last seen / last used" timestamps (ADR 0030): the newest value per key waits
 * in memory and all of them are written together, one batch per `intervalMs`, instead of one
 * statement per use. A thousand sessions falling due in the same second cost one statement and
 * one pooled connection, not a thousand queued in front of the requests that need the pool.
 *
 * - At most one batch is written at a time; values recorded meanwhile wait for the next.
 * - `get` sees a value until its batch has been written, so a reader that reloads the row in
 *   between can take the newer of the two.
 * - A failed batch is reported and dropped, not retried: the values are advisory and the next use
 *   records a fresh one. Memory is bounded by the number of distinct keys recorded per interval.
 */
export interface WriteBehind<V> {
  /** Records `value` for `key`, keeping the newer of it and a value already waiting (`newer`). */
  set(key: string, value: V): void;
  /** The value waiting to be written for `key`, including one whose batch is being written. */
  get(key: string): V | undefined;
  /** Forgets a value not yet being written (the record it belongs to is gone). */
  delete(key: string): void;
  /** How many values wait for the next batch. */
  readonly size: number;
  /** Writes what waits now; resolves when that batch (and any before it) is written or has failed. */
  flush(): Promise<void>;
  /** Stops the timer and writes what waits (shutdown). */
  close(): Promise<void>;
}

export interface WriteBehindOptions<V> {
  intervalMs: number;
  /** Writes one batch; a rejection is passed to `onError` and the batch dropped. */
  write(batch: ReadonlyMap<string, V>): Promise<void>;
  /** The value to keep when one is recorded while another waits. */
  newer(a: V, b: V): V;
  onError(err: unknown): void;
}

export function createWriteBehind<V>(opts: WriteBehindOptions<V>): WriteBehind<V> {
  let waiting = new Map<string, V>();
  // Batches taken for writing and not yet written, oldest first (one is written at a time).
  const unwritten: Array<ReadonlyMap<string, V>> = [];
  let last: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.size === 0) return last;
    const batch = waiting;
    waiting = new Map();
    unwritten.push(batch);
    last = last.then(async () => {
      try {
        await opts.write(batch);
      } catch (err) {
        opts.onError(err);
      } finally {
        unwritten.shift();
      }
    });
    return last;
  }

  return {
    set(key, value) {
      const current = waiting.get(key);
      waiting.set(key, current === undefined ? value : opts.newer(current, value));
      if (!timer && !closed) {
        timer = setTimeout(() => void flush(), opts.intervalMs);
        timer.unref(); // shutdown writes what waits through close(); the timer alone keeps nothing alive
      }
    },
    get(key) {
      let value = waiting.get(key);
      for (let i = unwritten.length - 1; value === undefined && i >= 0; i--) value = unwritten[i]!.get(key);
      return value;
    },
    delete: (key) => void waiting.delete(key),
    get size() {
      return waiting.size;
    },
    flush,
    close() {
      closed = true;
      return flush();
    },
  };
}
