// Boka for the HTTP benchmark: the real app (embedded PGlite, or DATABASE_URL), one signed-in
// owner with a tenant. Prints {port, token, tenantId} on stdout for the load generator.
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openDatabase } from '../../src/db/index.js';
import { profileOnSignal } from './profiling.js';

profileOnSignal(process.env.BENCH_PROFILE);

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  BOKA_DATA_DIR: 'memory',
  BOKA_SECRET_KEY: process.env.BOKA_SECRET_KEY ?? randomBytes(32).toString('base64url'),
  // The limiter step still runs on every request; the limit is set out of reach so 100
  // connections of one principal measure the pipeline, not 429s.
  RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: process.env.RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE ?? '1000000',
});
const db = await openDatabase(config);
const app = await buildApp(config, { db });
await app.listen({ host: '127.0.0.1', port: 0 });
const email = `bench-${randomBytes(4).toString('hex')}@example.test`;
const signup = await app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: 'bench password 123', name: 'Bench' } });
const { accessToken } = signup.json<{ accessToken: string }>();
const tenant = await app.inject({
  method: 'POST',
  url: '/api/tenants',
  headers: { authorization: `Bearer ${accessToken}` },
  payload: { name: 'Bench', slug: `bench-${randomBytes(4).toString('hex')}` },
});
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0, token: accessToken, tenantId: tenant.json<{ id: string }>().id })}\n`,
);
