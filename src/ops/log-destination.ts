import { destination } from 'pino';

/** Log lines waiting for a slow stdout reader, at most; past it new lines are dropped and counted. */
export const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Where the logger writes: stdout, asynchronously, through a bounded buffer (ADR 0027).
 *
 * pino's default destination writes synchronously. When stdout is a pipe whose reader falls
 * behind (a log collector, `npm start | tee`, a container's log driver) a write fails with
 * EAGAIN and sonic-boom then sleeps 100 ms, blocking the event loop, and retries until the pipe
 * drains: every request on the instance stalls for as long as the reader is slow. Here the
 * write is asynchronous: lines wait in memory, up to
 * `maxBytes`, and past it they are dropped with `onDrop` called once per dropped line, so a
 * stuck reader costs log lines (counted in `boka_log_lines_dropped_total`), never requests.
 * The server (src/main.ts) writes out what is buffered with `closeLogDestination` before it exits;
 * short-lived commands keep pino's synchronous default.
 */
export function createLogDestination(opts: { maxBytes?: number; onDrop: () => void }) {
  const stream = destination({ dest: 1, sync: false, maxLength: opts.maxBytes ?? LOG_BUFFER_MAX_BYTES });
  stream.on('drop', opts.onDrop);
  return stream;
}

/**
 * Writes out every buffered line and closes the destination, waiting at most `timeoutMs` (a
 * reader that is gone or stuck must not hold the exit). The last call before `process.exit`:
 * nothing can be logged after it. Needed because pino's own flush at exit skips the chunk whose
 * write is in flight (sonic-boom 4's `flushSync`), and `flush()` without `minLength` returns at once.
 */
export function closeLogDestination(stream: ReturnType<typeof createLogDestination>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end();
  });
}
