/**
 * Preloaded (`node --import`) into the Boka processes the demo and the end-to-end tests start:
 * if the process that started them disappears without cleaning up (SIGKILL, a crashed test
 * runner), they stop too (SIGTERM, i.e. Boka's own drain) instead of lingering. Demo/test only.
 */
const parent = Number(process.env.BOKA_WATCH_PARENT_PID);
if (Number.isInteger(parent) && parent > 0) {
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      clearInterval(timer);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1_000);
  timer.unref();
}
