import type { OptionSpec, OptionSpecs, ParsedArgs, PositionalSpec } from '../shared/command-line.js';

/** A command that runs: its options and arguments are data, its handler is loaded on use. */
export interface Command {
  readonly kind: 'command';
  readonly summary: string;
  /** More lines for `--help`, after the summary. */
  readonly description?: readonly string[];
  readonly options: OptionSpecs;
  readonly positionals: readonly PositionalSpec[];
  /** Exit codes beyond 0 and 2 (usage error), as [code, meaning]. */
  readonly exitCodes: readonly (readonly [number, string])[];
  run(args: ParsedArgs): Promise<number>;
}

/** `boka db …`: a name that only groups commands. */
export interface CommandGroup {
  readonly kind: 'group';
  readonly summary: string;
  readonly commands: Readonly<Record<string, Command | CommandGroup>>;
}

/** Exit codes every command shares; a command lists its own others. */
export const EXIT_OK: readonly [number, string] = [0, 'success'];
export const EXIT_USAGE: readonly [number, string] = [2, "usage error: unknown command or option, missing or bad value (the message names it; see --help)"];

/** `--json`, on every command that reports data: one JSON document on stdout and nothing else there. */
export const JSON_OPTION = { type: 'boolean', description: 'print one JSON document on stdout (messages still go to stderr)' } as const satisfies OptionSpec;

/**
 * Declares a command; `run` receives values typed from `options`. `exitCodes` defaults to
 * "1 = the command failed".
 */
export function defineCommand<const Os extends OptionSpecs>(spec: {
  summary: string;
  description?: readonly string[];
  options: Os;
  positionals?: readonly PositionalSpec[];
  exitCodes?: readonly (readonly [number, string])[];
  run(args: ParsedArgs<Os>): Promise<number>;
}): Command {
  return {
    kind: 'command',
    summary: spec.summary,
    description: spec.description,
    options: spec.options,
    positionals: spec.positionals ?? [],
    exitCodes: spec.exitCodes ?? [[1, 'the command failed (the message on stderr says why)']],
    // The parser produced exactly these options' values (parseCommandLine is typed by the same specs).
    run: spec.run as unknown as Command['run'],
  };
}

export function defineGroup(summary: string, commands: Record<string, Command | CommandGroup>): CommandGroup {
  return { kind: 'group', summary, commands };
}
