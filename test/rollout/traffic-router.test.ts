import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createRouter } from '../../src/rollout/router/router.js';
import { createBuiltinTrafficRouter } from '../../src/rollout/traffic/builtin/builtin-traffic-router.js';
import { createNginxTrafficRouter } from '../../src/rollout/traffic/nginx/nginx-traffic-router.js';
import { startBackend } from './helpers/backends.js';
import { runTrafficRouterSuite } from './traffic-router.suite.js';

/**
 * `fresh` opens a new connection per request: an nginx reload closes the old workers' idle
 * keep-alive connections, and a request racing that close would fail for reasons unrelated
 * to the weights under test.
 */
async function sendVia(agent: Agent, url: string, fresh = false): Promise<string> {
  const res = await request(url, { dispatcher: agent, reset: fresh });
  return String(((await res.body.json()) as { color: string }).color);
}

runTrafficRouterSuite('builtin', async () => {
  const blue = await startBackend('blue');
  const green = await startBackend('green');
  const router = createRouter({ blue: [blue.url], green: [green.url] });
  const { url } = await router.listen(0, '127.0.0.1');
  const admin = await router.listenAdmin(0, '127.0.0.1');
  const traffic = createBuiltinTrafficRouter({ adminUrl: admin.url });
  const agent = new Agent();
  return {
    router: traffic,
    send: () => sendVia(agent, `${url}/x`),
    async teardown() {
      await traffic.close();
      await agent.close();
      await router.close();
      await Promise.all([blue.close(), green.close()]);
    },
  };
});

function findNginx(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx 2>/dev/null'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0];
  return found.status === 0 && path ? path : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const nginxBin = findNginx();
runTrafficRouterSuite(
  'nginx',
  async () => {
    const bin = nginxBin ?? 'nginx';
    const blue = await startBackend('blue');
    const green = await startBackend('green');
    const prefix = mkdtempSync(join(tmpdir(), 'boka-nginx-'));
    const [publicPort, statusPort] = [await freePort(), await freePort()];
    const includePath = join(prefix, 'boka-upstream.conf');
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(
      conf,
      `worker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_temp_path ${prefix}/body;\n  proxy_temp_path ${prefix}/proxy;\n  fastcgi_temp_path ${prefix}/fastcgi;\n  uwsgi_temp_path ${prefix}/uwsgi;\n  scgi_temp_path ${prefix}/scgi;\n  include ${includePath};\n  server {\n    listen 127.0.0.1:${publicPort};\n    location / { proxy_pass http://boka_app; }\n  }\n}\n`,
    );
    const nginxArgs = ['-p', prefix, '-c', conf];
    const traffic = createNginxTrafficRouter({
      includePath,
      nginxBin: bin,
      nginxArgs,
      upstreamName: 'boka_app',
      blue: [blue.url],
      green: [green.url],
      statusListen: `127.0.0.1:${statusPort}`,
    });
    // nginx needs a valid include before it can start; write weight 0 directly, then start it.
    const { renderNginxUpstream } = await import('../../src/rollout/traffic/nginx/nginx-config.core.js');
    writeFileSync(includePath, renderNginxUpstream({ upstreamName: 'boka_app', blue: [blue.url], green: [green.url], statusListen: `127.0.0.1:${statusPort}` }, 0, 'initial'));
    execFileSync(bin, nginxArgs, { stdio: 'ignore' });
    const agent = new Agent();
    return {
      router: traffic,
      send: () => sendVia(agent, `http://127.0.0.1:${publicPort}/x`, true),
      async teardown() {
        spawnSync(bin, [...nginxArgs, '-s', 'quit']);
        await agent.close();
        await Promise.all([blue.close(), green.close()]);
        rmSync(prefix, { recursive: true, force: true });
      },
    };
  },
  nginxBin ? undefined : 'nginx is not on PATH (apt-get install nginx-light to run this suite against real nginx)',
);
