/**
 * Walks every command of the table (src/cli/commands.ts) through the real `bin/boka.mjs`:
 * `--help`, `-h` and `boka help <cmd>` each print that command's usage on stdout and exit 0,
 * and the usage names every option and argument the table declares. Usage errors go to stderr
 * with exit 2, as getopt-style tools (grep, diff, ls) do; the option syntax follows POSIX XBD
 * 12.2 (Utility Syntax Guidelines). One process per invocation, a few at a time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/commands.js';
import { listCommands, listGroups } from '../../src/cli/run.js';
import { DEFAULT_PLAN } from '../../src/rollout/plan.core.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), 'boka-help-walk-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/boka.mjs …` with a clean environment, bounded by a timeout. */
function boka(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/boka.mjs', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', BACKUP_DIR: scratch },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`boka ${args.join(' ')} did not finish in 120 s`));
    }, 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the invocations a few at a time (the machine is shared) and returns results in order. */
async function runAll(invocations: readonly (readonly string[])[], width = 3): Promise<Run[]> {
  const results: Run[] = new Array<Run>(invocations.length);
  let next = 0;
  const worker = async () => {
    while (next < invocations.length) {
      const i = next++;
      results[i] = await boka(invocations[i] ?? []);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

describe('boka --help walk (every command in the table, through bin/boka.mjs)', () => {
  test('every command: --help, -h and `help <cmd>` print the same usage on stdout, exit 0, naming every option', async () => {
    const commands = listCommands();
    assert.ok(commands.length >= 20, `the walk found only ${commands.length} commands`);
    const invocations = commands.flatMap(({ path }) => [[...path, '--help'], [...path, '-h'], ['help', ...path]]);
    const results = await runAll(invocations);
    commands.forEach(({ path, command }, i) => {
      const name = `boka ${path.join(' ')}`;
      const [long, short, viaHelp] = [results[3 * i], results[3 * i + 1], results[3 * i + 2]];
      for (const [form, r] of [['--help', long], ['-h', short], ['help', viaHelp]] as const) {
        assert.ok(r, `${name} ${form}: no result`);
        assert.equal(r.code, 0, `${name} ${form}: exit ${r.code}\n${r.stderr}`);
        assert.equal(r.stderr, '', `${name} ${form}: wrote to stderr`);
        assert.match(r.stdout, new RegExp(`^usage: ${name} \\[options\\]`), `${name} ${form}`);
      }
      assert.equal(short?.stdout, long?.stdout, `${name}: -h differs from --help`);
      assert.equal(viaHelp?.stdout, long?.stdout, `${name}: help <cmd> differs from --help`);
      const out = long?.stdout ?? '';
      for (const option of [...Object.keys(command.options), 'help']) assert.match(out, new RegExp(`--${option}\\b`), `${name} --help does not mention --${option}`);
      for (const p of command.positionals) assert.ok(out.includes(`<${p.name}>`), `${name} --help does not mention <${p.name}>`);
      assert.match(out, /exit codes:\n\s+0 /, `${name} --help documents no exit codes`);
    });
  });

  test('`boka`, `help`, `--help`, `-h` and every group alone or with --help: usage on stdout listing its commands, exit 0', async () => {
    const groups = listGroups().filter((g) => g.path.length > 0);
    const invocations = [[], ['help'], ['--help'], ['-h'], ...groups.flatMap(({ path }) => [path, [...path, '--help']])];
    const results = await runAll(invocations);
    const top = results[0];
    assert.equal(top?.code, 0);
    for (const r of results.slice(1, 4)) assert.equal(r.stdout, top?.stdout);
    for (const { path } of listCommands(COMMANDS)) assert.ok(top?.stdout.includes(`  ${path.join(' ')} `), `top-level usage lacks ${path.join(' ')}`);
    assert.match(top?.stdout ?? '', /exit codes:[\s\S]*\n {2}2 {2}usage error[\s\S]*\n {2}3 /);
    groups.forEach(({ path, group }, i) => {
      for (const r of [results[4 + 2 * i], results[5 + 2 * i]]) {
        assert.equal(r?.code, 0, `boka ${path.join(' ')}: ${r?.stderr}`);
        assert.equal(r?.stderr, '');
        for (const sub of Object.keys(group.commands)) assert.ok(r?.stdout.includes(`${path.join(' ')} ${sub}`), `boka ${path.join(' ')} lacks ${sub}`);
      }
    });
  });

  test('usage errors: stderr names the command or option and points at --help, stdout stays empty, exit 2', async () => {
    const cases: { args: string[]; stderr: RegExp[] }[] = [
      { args: ['rolout'], stderr: [/unknown command 'rolout'/, /did you mean 'rollout'\?/, /see 'boka --help'/] },
      { args: ['db', 'migrat'], stderr: [/unknown command 'db migrat'/, /did you mean 'db migrate'\?/] },
      { args: ['db', 'migrate', '--phse', 'expand'], stderr: [/unknown option --phse/, /did you mean --phase\?/, /see 'boka db migrate --help'/] },
      { args: ['db', 'migrate', '--phase', 'sideways'], stderr: [/option --phase must be one of expand, all/] },
      { args: ['smoke', 'http://127.0.0.1:1', '--plan'], stderr: [/option --plan needs a value/, /see 'boka smoke --help'/] },
      { args: ['smoke'], stderr: [/missing argument <url>/] },
      { args: ['router', 'serve', '--blue', 'http://127.0.0.1:1', '--initial-weight', '101'], stderr: [/option --initial-weight must be a number from 0 to 100/] },
      { args: ['admin', 'create-superadmin', '--name', 'x'], stderr: [/option --email is required/] },
      { args: ['--frobnicate'], stderr: [/unknown option --frobnicate/] },
      // A mistyped secret option: the value that followed it is never repeated.
      { args: ['rollout', 'status', '--controller', 'http://127.0.0.1:1', '--tokn=hunter2-secret-value'], stderr: [/unknown option --tokn \(did you mean --token\?\)/] },
      { args: ['rollout', 'status', '--controller', 'http://127.0.0.1:1', '--tokn', 'hunter2-secret-value'], stderr: [/unknown option --tokn/] },
    ];
    const results = await runAll(cases.map((c) => c.args));
    cases.forEach(({ args, stderr }, i) => {
      const r = results[i];
      assert.equal(r?.code, 2, `boka ${args.join(' ')}: exit ${r?.code}\n${r?.stdout}${r?.stderr}`);
      assert.equal(r?.stdout, '', `boka ${args.join(' ')} wrote to stdout`);
      for (const re of stderr) assert.match(r?.stderr ?? '', re, `boka ${args.join(' ')}`);
      assert.doesNotMatch(r?.stderr ?? '', /hunter2/, 'a secret was echoed');
    });
  });

  test('--version and -v print package.json version; --json prints exactly one JSON document on stdout', async () => {
    const [long, short, plan, backups] = await runAll([['--version'], ['-v'], ['rollout', 'plan', '--json'], ['db', 'backups', '--json', '--dir', scratch]]);
    for (const r of [long, short]) {
      assert.equal(r?.code, 0);
      assert.equal(r?.stdout, `${VERSION}\n`);
    }
    assert.equal(plan?.code, 0, plan?.stderr);
    assert.deepEqual(JSON.parse(plan?.stdout ?? ''), JSON.parse(JSON.stringify(DEFAULT_PLAN)));
    // No backup in an empty directory: exit 1, the reason on stderr, the data still one JSON document.
    assert.equal(backups?.code, 1);
    assert.deepEqual(JSON.parse(backups?.stdout ?? ''), { dir: scratch, files: [], recent: false, maxAgeHours: 24 });
    assert.match(backups?.stderr ?? '', /no backup younger than 24 h/);
  });
});
