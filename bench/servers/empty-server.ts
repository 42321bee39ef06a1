// Baseline for the HTTP benchmark: an empty Fastify route, same Fastify version, same process shape.
import Fastify from 'fastify';
import { profileOnSignal } from './profiling.js';

profileOnSignal(process.env.BENCH_PROFILE);

const app = Fastify({ logger: false });
app.get('/empty', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
