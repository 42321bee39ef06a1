// Reference for the router benchmark: the least a Node reverse proxy can do (node:http server,
// one undici Pool, no routing, no counters, no header hygiene) in front of
// ROUTER_BENCH_BACKEND. Not a product; it shows the ceiling the built-in router is measured against.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const backend = process.env.ROUTER_BENCH_BACKEND;
if (!backend) throw new Error('ROUTER_BENCH_BACKEND is required');
const pool = new Pool(backend, { connections: 128 });
const server = createServer((req, res) => {
  pool
    .request({ method: 'GET', path: req.url ?? '/', headers: { authorization: req.headers.authorization ?? '' } })
    .then((up) => {
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
      up.body.pipe(res);
    })
    .catch(() => res.writeHead(502).end());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
