/**
 * `npm run bench`: runs every `bench/*.bench.ts` in sequence and prints one markdown report
 * (machine, date, then each section), also written to bench/results/latest.md. Filter with
 * `npm run bench -- auth`. Numbers go into BENCHMARKS.md by hand, with this header.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { machineHeader } from './machine.js';

const filters = process.argv.slice(2);
const dir = new URL('.', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const sections = [machineHeader()];
for (const file of files) {
  console.error(`running ${file}…`);
  const mod = (await import(new URL(file, dir).href)) as { run(): Promise<string> };
  sections.push(await mod.run());
}
const report = sections.join('\n\n');
mkdirSync(new URL('results/', dir), { recursive: true });
writeFileSync(new URL('results/latest.md', dir), `${report}\n`);
console.log(report);
