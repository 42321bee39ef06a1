// Baseline for bench/load.ts: an empty Fastify route on the same machine, in the same run.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ ok: true }));
// The same accept backlog as src/main.ts: with Node's default (511) a burst of 1 000 connections
// loses SYNs and the baseline shows seconds-long retries that are not the route's.
const address = await app.listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
console.log(`listening at ${address}`);
