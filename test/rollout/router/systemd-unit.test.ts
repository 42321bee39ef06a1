import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const unit = readFileSync(new URL('../../../examples/systemd/boka-router.service', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'boka-router-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function which(cmd: string): string | undefined {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0] || undefined;
}

describe('examples/systemd/boka-router.service', () => {
  it('runs `router serve` as the main process with a state file, SIGTERM, and a stop timeout above the drain', () => {
    const line = (key: string) => unit.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1) ?? '';
    assert.match(line('ExecStart'), /^\/usr\/bin\/node dist\/cli\/index\.js router serve .*--state-file \/var\/lib\/boka-router\/state\.json/);
    assert.equal(line('KillSignal'), 'SIGTERM');
    const drainMs = Number(/--shutdown-timeout-ms (\d+)/.exec(line('ExecStart'))?.[1]);
    assert.ok(Number(line('TimeoutStopSec')) * 1000 > drainMs, 'systemd waits longer than the router drains');
    assert.match(unit, /BOKA_ROUTER_ADMIN_TOKEN_FILE=%d\/router_admin_token/);
  });

  it('systemd-analyze verify reports nothing', (t) => {
    const analyze = which('systemd-analyze');
    if (!analyze) return t.skip('systemd-analyze is not installed (Debian: systemd)');
    const copy = join(dir, 'boka-router.service');
    writeFileSync(copy, unit.replace('/usr/bin/node', process.execPath));
    const res = spawnSync(analyze, ['verify', copy], { encoding: 'utf8' });
    assert.equal(`${res.stdout}${res.stderr}`.trim(), '');
    assert.equal(res.status, 0);
  });
});
