/**
 * The one parser (src/shared/command-line.ts) and the table's own rules, in-process. The
 * spawned walk over the real bin is help-walk.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { COMMANDS } from '../../src/cli/commands.js';
import { listCommands, runCli } from '../../src/cli/run.js';
import { parseCommandLine, type OptionSpecs } from '../../src/shared/command-line.js';

const OPTIONS = {
  blue: { type: 'string', variadic: true, description: 'd' },
  green: { type: 'string', variadic: true, description: 'd' },
  arg: { type: 'string', multiple: true, dashValues: true, description: 'd' },
  plan: { type: 'string', description: 'd' },
  weight: { type: 'number', min: 0, max: 100, default: 0, description: 'd' },
  mode: { type: 'string', choices: ['a', 'b'], description: 'd' },
  token: { type: 'string', secret: true, check: (v) => (v.length >= 8 ? null : 'is too short'), description: 'd' },
  force: { type: 'boolean', description: 'd' },
} as const satisfies OptionSpecs;

const parse = (argv: string[], positionals = [{ name: 'url', description: 'd' }]) => parseCommandLine(OPTIONS, positionals, argv);

describe('parseCommandLine', () => {
  test('typed values, defaults, --x=y, several values after one flag, a repeatable option, `--`', () => {
    const r = parse(['--blue', 'http://a', 'http://b', '--green=http://c', 'http://u', '--arg=-c', '--arg', '-p', '--arg', 'x', '--weight', '40', '--force']);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual(r.args.values, { blue: ['http://a', 'http://b'], green: ['http://c'], arg: ['-c', '-p', 'x'], plan: undefined, weight: 40, mode: undefined, token: undefined, force: true });
    // An inline value ends the flag's list: the next bare word is a positional.
    assert.deepEqual(r.args.positionals, ['http://u']);
    const t = parse(['--blue', 'http://a', '--', '--not-an-option']);
    assert.deepEqual(t.kind === 'ok' && [t.args.values.blue, t.args.positionals], [['http://a'], ['--not-an-option']]);
    const d = parse([]);
    assert.deepEqual(d.kind === 'ok' && [d.args.values.weight, d.args.values.blue, d.args.values.force], [0, [], false]);
  });

  test('--help and -h win over errors anywhere before `--`', () => {
    assert.equal(parse(['--bogus', '--help']).kind, 'help');
    assert.equal(parse(['--weight', 'x', '-h']).kind, 'help');
    assert.equal(parse(['--', '--help']).kind, 'ok');
  });

  test('each usage error names the option', () => {
    const cases: [string[], RegExp][] = [
      [['--plna', 'x'], /^unknown option --plna \(did you mean --plan\?\)$/],
      [['-q'], /^unknown option -q$/],
      [['--plan'], /^option --plan needs a value$/],
      [['--plan', '--force'], /^option --plan needs a value$/],
      [['--force=yes'], /^option --force takes no value$/],
      [['--plan', 'a', '--plan', 'b'], /^option --plan is given more than once$/],
      [['--weight', '101'], /^option --weight must be a number from 0 to 100 \(got '101'\)$/],
      [['--weight', ''], /^option --weight must be a number/],
      [['--mode', 'c'], /^option --mode must be one of a, b \(got 'c'\)$/],
      [['u1', 'u2'], /^too many arguments \(1 more than <url>\)$/],
    ];
    for (const [argv, message] of cases) {
      const r = parse(argv);
      assert.equal(r.kind, 'error', argv.join(' '));
      if (r.kind === 'error') assert.match(r.message, message, argv.join(' '));
    }
    const missing = parseCommandLine(OPTIONS, [{ name: 'file', description: 'd', required: true }], []);
    assert.deepEqual(missing, { kind: 'error', message: 'missing argument <file>' });
  });

  test('property: no message ever repeats a secret option value or a stray word (ASVS 4.0.3 V7.1.1: no credentials in logs)', () => {
    const secret = fc.string({ minLength: 8, maxLength: 20 }).filter((s) => /^[A-Za-z0-9]+$/.test(s) && !/^(help|blue|green|arg|plan|weight|mode|token|force|url|option|value)/i.test(s));
    fc.assert(
      fc.property(secret, fc.constantFrom('--token', '--tokn', '--token=', '--tokn=', '--weight', '--mode'), fc.boolean(), (value, flag, extra) => {
        const argv = flag.endsWith('=') ? [`${flag}${value}`] : [flag, value];
        const r = parseCommandLine(OPTIONS, [], extra ? [...argv, 'u'] : argv);
        if (r.kind !== 'error') return true;
        // Values of non-secret options may be quoted back (they help); the secret ones never.
        return flag.startsWith('--weight') || flag.startsWith('--mode') || !r.message.includes(value);
      }),
      { numRuns: 200 },
    );
    const short = parse(['--token', 'short']);
    assert.deepEqual(short, { kind: 'error', message: 'option --token is too short' });
  });

  test('prototype names are unknown options, not inherited ones', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = parse([`--${name}`]);
      assert.equal(r.kind, 'error', name);
    }
  });
});

describe('the command table', () => {
  test('every command and option is documented; names are kebab-case; -h is the only short option', () => {
    for (const { path, command } of listCommands()) {
      assert.ok(command.summary.length > 0 && command.summary.length <= 120, path.join(' '));
      for (const [name, spec] of Object.entries(command.options)) {
        assert.match(name, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${path.join(' ')} --${name}`);
        assert.notEqual(name, 'help', `${path.join(' ')} redefines --help`);
        assert.ok(spec.description.length > 0, `${path.join(' ')} --${name} has no description`);
        assert.equal(spec.short, undefined, `${path.join(' ')} --${name}: short options other than -h are not used`);
        if (spec.type === 'boolean') assert.equal(spec.default, undefined, `${path.join(' ')} --${name}: a boolean defaults to false`);
      }
    }
    assert.equal(COMMANDS.kind, 'group');
  });

  test('runCli: help on stdout, errors on stderr (in-process, every command)', async () => {
    for (const { path } of listCommands()) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli([...path, '--definitely-not-an-option'], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
      assert.equal(code, 2, path.join(' '));
      assert.deepEqual(out, []);
      assert.match(err.join(''), new RegExp(`^boka ${path.join(' ')}: unknown option --definitely-not-an-option\\nsee 'boka ${path.join(' ')} --help'\\n$`));
    }
  });
});
