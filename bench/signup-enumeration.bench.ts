/**
 * ADR 0013: does `AUTH_SIGNUP_MODE=verify` sign-up answer a taken address as fast as a new one?
 * Interleaved in random order on one app (PGlite in memory), N samples per branch; prints mean,
 * median, the difference and Welch's z. Run: `npx tsx bench/signup-enumeration.bench.ts`.
 * A figure for docs/security.md, never a test assertion.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/db/index.js';
import type { MailTransport } from '../src/mail/index.js';

const N = Number(process.env.BENCH_SAMPLES ?? 200);
const PASSWORD = 'correct horse battery staple';

const config = loadConfig({
  NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url'),
  AUTH_SIGNUP_MODE: 'verify', RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '0',
});
const db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory', databasePoolMax: 1 });
const mail: MailTransport = { send: async () => {} };
const app = await buildApp(config, { db, mail });
await app.ready();

const signup = async (email: string) => {
  const t = process.hrtime.bigint();
  const res = await app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: PASSWORD, name: 'Bench' } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (res.statusCode !== 202) throw new Error(`unexpected ${res.statusCode} ${res.body}`);
  // Let the after-answer work (token insert, mail) run before the next sample, as on an idle server.
  await new Promise((r) => setTimeout(r, 5));
  return ms;
};

const taken = `taken-${randomBytes(4).toString('hex')}@example.test`;
await signup(taken);
for (let i = 0; i < 10; i += 1) await signup(`warm-${i}-${randomBytes(4).toString('hex')}@example.test`);

const samples = { taken: [] as number[], fresh: [] as number[] };
while (samples.taken.length < N || samples.fresh.length < N) {
  const pickTaken = samples.fresh.length >= N || (samples.taken.length < N && randomInt(2) === 0);
  if (pickTaken) samples.taken.push(await signup(taken.toUpperCase()));
  else samples.fresh.push(await signup(`new-${randomBytes(6).toString('hex')}@example.test`));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const variance = (xs: number[]) => { const m = mean(xs); return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1); };
const z = (mean(samples.taken) - mean(samples.fresh)) / Math.sqrt(variance(samples.taken) / N + variance(samples.fresh) / N);
const fmt = (x: number) => x.toFixed(2);
console.log(`samples per branch: ${N}`);
console.log(`taken: mean ${fmt(mean(samples.taken))} ms, median ${fmt(median(samples.taken))} ms, sd ${fmt(Math.sqrt(variance(samples.taken)))}`);
console.log(`new:   mean ${fmt(mean(samples.fresh))} ms, median ${fmt(median(samples.fresh))} ms, sd ${fmt(Math.sqrt(variance(samples.fresh)))}`);
console.log(`difference of means (taken − new): ${fmt(mean(samples.taken) - mean(samples.fresh))} ms; Welch z = ${z.toFixed(2)}`);
await app.close();
await db.close();
