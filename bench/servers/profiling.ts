// In-process V8 CPU profiling for the benchmark servers: with BENCH_PROFILE set, the first
// SIGUSR2 starts the profiler and the second writes the profile to that path, so only the
// measured phase is sampled (start-up and warm-up stay out of it).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export function profileOnSignal(path: string | undefined): void {
  if (!path) return;
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!running) {
        running = true;
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 100 });
        await session.post('Profiler.start');
        process.stderr.write('profiling\n');
        return;
      }
      running = false;
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      process.stderr.write(`profile written to ${path}\n`);
    })();
  });
}
