// The built-in rollout router in its own process for the router benchmark: both colors point at
// the backend in ROUTER_BENCH_BACKEND, 50 % green, so every request goes through the sticky
// weighted choice, the edge counters and one undici pool. Prints {port} on stdout.
import { createRouter } from '../../src/rollout/router/router.js';

const backend = process.env.ROUTER_BENCH_BACKEND;
if (!backend) throw new Error('ROUTER_BENCH_BACKEND is required');
const router = createRouter({ blue: [backend], green: [backend], initialWeight: 50 });
const { port } = await router.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.once('SIGTERM', () => void router.close().then(() => process.exit(0)));
