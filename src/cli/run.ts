import { readFileSync } from 'node:fs';
import { formatOptions, parseCommandLine, suggestName } from '../shared/command-line.js';
import { COMMANDS } from './commands.js';
import { EXIT_OK, EXIT_USAGE, type Command, type CommandGroup } from './define.js';

/** Where the CLI writes; tests pass their own. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exit codes shared by every command (README "Commands" repeats them). */
export const EXIT_CODES: readonly (readonly [number, string])[] = [
  EXIT_OK,
  [1, 'the command ran and failed: a check failed, a request was refused, a runtime error'],
  EXIT_USAGE,
  [3, '`boka rollout start` refused: another controller holds the rollout lease'],
];

/** package.json sits two levels up from both src/cli/ and dist/cli/. */
export function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/** Every runnable command with its full name (`db migrate`), in table order. */
export function listCommands(group: CommandGroup = COMMANDS, prefix: readonly string[] = []): { path: string[]; command: Command }[] {
  return Object.entries(group.commands).flatMap(([name, node]) => (node.kind === 'group' ? listCommands(node, [...prefix, name]) : [{ path: [...prefix, name], command: node }]));
}

/** Every group with its full name (the root is `[]`). */
export function listGroups(group: CommandGroup = COMMANDS, prefix: readonly string[] = []): { path: string[]; group: CommandGroup }[] {
  return [{ path: [...prefix], group }, ...Object.entries(group.commands).flatMap(([name, node]) => (node.kind === 'group' ? listGroups(node, [...prefix, name]) : []))];
}

function formatExitCodes(codes: readonly (readonly [number, string])[]): string[] {
  return ['exit codes:', ...codes.map(([code, meaning]) => `  ${code}  ${meaning}`)];
}

function formatGroupHelp(path: readonly string[], group: CommandGroup): string {
  const name = ['boka', ...path].join(' ');
  const rows = listCommands(group, path).map(({ path: p, command }) => [p.join(' '), command.summary] as const);
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = [
    `usage: ${name} <command> [options]`,
    ...(path.length === 0 ? ['       boka help <command> | boka <command> --help', '       boka --version'] : []),
    '',
    path.length === 0 ? `boka ${readVersion()}: ${group.summary}` : group.summary,
    '',
    'commands:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    '',
    `'boka <command> --help' shows a command's options.`,
  ];
  if (path.length === 0) lines.push('', ...formatExitCodes(EXIT_CODES), '', 'options: -h, --help (this help) · -v, --version (the package version)');
  return `${lines.join('\n')}\n`;
}

function formatCommandHelp(path: readonly string[], command: Command): string {
  const args = command.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  const lines = [`usage: boka ${path.join(' ')} [options]${args ? ` ${args}` : ''}`, '', command.summary];
  if (command.description) lines.push('', ...command.description);
  if (command.positionals.length > 0) {
    const width = Math.max(...command.positionals.map((p) => p.name.length + 2));
    lines.push('', 'arguments:', ...command.positionals.map((p) => `  ${`<${p.name}>`.padEnd(width)}  ${p.description}`));
  }
  const codes = new Map<number, string>([EXIT_OK, EXIT_USAGE]);
  for (const [code, meaning] of command.exitCodes) codes.set(code, code === 2 ? `${EXIT_USAGE[1]}; ${meaning.replace(/^also: /, '')}` : meaning);
  lines.push('', 'options:', ...formatOptions(command.options), '', ...formatExitCodes([...codes].sort(([a], [b]) => a - b)));
  return `${lines.join('\n')}\n`;
}

/** Follows the command words from the root; stops at the first option or at a runnable command. */
function resolve(words: readonly string[]): { node: Command | CommandGroup; path: string[]; rest: string[] } | { unknown: string; path: string[]; known: string[] } {
  let node: Command | CommandGroup = COMMANDS;
  const path: string[] = [];
  let i = 0;
  while (node.kind === 'group' && i < words.length && !(words[i] ?? '').startsWith('-')) {
    const word = words[i] ?? '';
    const next: Command | CommandGroup | undefined = Object.hasOwn(node.commands, word) ? node.commands[word] : undefined;
    if (!next) return { unknown: word, path, known: [...Object.keys(node.commands), ...(path.length === 0 ? ['help'] : [])] };
    node = next;
    path.push(word);
    i++;
  }
  return { node, path, rest: words.slice(i) };
}

function usageError(out: CliOutput, path: readonly string[], message: string): number {
  const name = ['boka', ...path].join(' ');
  out.stderr(`${name}: ${message}\nsee '${name} --help'\n`);
  return 2;
}

/**
 * `boka …` → exit code. Help and --version go to stdout (exit 0); usage errors to stderr
 * (exit 2); a command's own failures keep their documented codes.
 */
export async function runCli(argv: readonly string[], out: CliOutput = processOutput): Promise<number> {
  const [first, ...others] = argv;
  if (first === '--version' || first === '-v') {
    out.stdout(`${readVersion()}\n`);
    return 0;
  }
  const helpWanted = first === 'help';
  const found = resolve(helpWanted ? others : argv);
  if ('unknown' in found) {
    const full = [...found.path, found.unknown].join(' ');
    const hint = suggestName(found.unknown, found.known);
    out.stderr(`boka: unknown command '${full}'${hint ? `; did you mean '${[...found.path, hint].join(' ')}'?` : ''}\nsee 'boka ${found.path.length > 0 ? `${found.path.join(' ')} ` : ''}--help'\n`);
    return 2;
  }
  const { node, path, rest } = found;
  if (helpWanted) {
    if (rest.length > 0) return usageError(out, ['help'], `expected command names only`);
    out.stdout(node.kind === 'group' ? formatGroupHelp(path, node) : formatCommandHelp(path, node));
    return 0;
  }
  if (node.kind === 'group') {
    if (rest.length === 0 || rest.includes('--help') || rest.includes('-h')) {
      out.stdout(formatGroupHelp(path, node));
      return 0;
    }
    // Only the option's name: a value glued to it (`--token=…`, `-xVALUE`) may be a secret.
    const word = rest[0] ?? '';
    const option = word.startsWith('--') ? word.split('=')[0] : word.slice(0, 2);
    return usageError(out, path, path.length === 0 ? `unknown option ${option}` : `needs a command: ${Object.keys(node.commands).join(', ')}`);
  }
  const parsed = parseCommandLine(node.options, node.positionals, rest);
  if (parsed.kind === 'help') {
    out.stdout(formatCommandHelp(path, node));
    return 0;
  }
  if (parsed.kind === 'error') return usageError(out, path, parsed.message);
  return node.run(parsed.args);
}
