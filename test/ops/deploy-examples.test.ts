import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'boka-examples-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function which(cmd: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${cmd} || ls /usr/sbin/${cmd} 2>/dev/null`], { encoding: 'utf8' }).stdout.trim();
  return found.split('\n')[0] || undefined;
}

/** `[Section]` → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `not a unit-file line: ${line}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

describe('deployment examples', () => {
  const unit = read('examples/systemd/boka.service');

  it('systemd unit: node is the main process, SIGTERM, and systemd waits longer than the drain', () => {
    const service = parseUnit(unit).get('Service')!;
    assert.deepEqual(service.get('Type'), ['simple']);
    assert.deepEqual(service.get('KillSignal'), ['SIGTERM']);
    assert.match(service.get('ExecStart')![0]!, /^\/usr\/bin\/node dist\/main\.js$/);
    const defaults = loadConfig({ BOKA_DATA_DIR: 'memory' });
    const drainSeconds = (defaults.ops.shutdownDelayMs + defaults.ops.shutdownTimeoutMs) / 1000;
    assert.ok(Number(service.get('TimeoutStopSec')![0]) > drainSeconds, `TimeoutStopSec must exceed ${drainSeconds} s`);
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'PrivateTmp', 'CapabilityBoundingSet']) assert.ok(service.has(key), key);
  });

  it('systemd unit: systemd-analyze verify reports nothing', (t) => {
    const analyze = which('systemd-analyze');
    if (!analyze) return t.skip('systemd-analyze is not installed (Debian: systemd)');
    // verify checks that ExecStart exists: point it at this node.
    const copy = join(dir, 'boka.service');
    writeFileSync(copy, unit.replace('/usr/bin/node', process.execPath));
    const res = spawnSync(analyze, ['verify', copy], { encoding: 'utf8' });
    // Unknown keys are warnings with exit code 0: any output at all is a failure.
    assert.equal(`${res.stdout}${res.stderr}`.trim(), '');
    assert.equal(res.status, 0);
  });

  it('nginx example: nginx -t accepts it', (t) => {
    const nginx = which('nginx');
    if (!nginx) return t.skip('nginx is not installed (Debian: nginx-light)');
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, [
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events {}',
      `http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; include ${join(process.cwd(), 'examples/nginx/boka.conf')}; }`,
    ].join('\n'));
    const res = spawnSync(nginx, ['-t', '-q', '-p', dir, '-c', conf], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
  });
});
