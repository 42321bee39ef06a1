import { parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';

/**
 * The one command-line parser (ADR 0020): every `boka …` command declares its options as data,
 * and this module turns argv into typed values, help text and usage errors from that data.
 * Tokenising is node:util.parseArgs's; the checks `strict: true` would make are made here over
 * its tokens, so that every message names the option, never echoes a secret value, and
 * `--blue a b` (several values after one flag, documented since the router shipped) keeps working.
 */

/** One `--option`. Booleans default to false; a `number` is checked against min/max. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean' | 'number';
  /** One line for the help text. */
  readonly description: string;
  /** Shown in help: `--plan <file>`. */
  readonly valueName?: string;
  readonly short?: string;
  readonly default?: string | number;
  readonly required?: boolean;
  /** Repeatable: `--nginx-arg a --nginx-arg b`. */
  readonly multiple?: boolean;
  /** Takes every following bare word too: `--blue http://a http://b` (implies multiple). */
  readonly variadic?: boolean;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Values may start with `-` (arguments passed on to another program: `--nginx-arg -p`). */
  readonly dashValues?: boolean;
  /** A credential: its value is never repeated in a message. */
  readonly secret?: boolean;
  /** Extra check of a string value; returns what is wrong, or null. */
  readonly check?: (value: string) => string | null;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type OptionValue<O extends OptionSpec> = O['type'] extends 'boolean'
  ? boolean
  : O extends { multiple: true } | { variadic: true }
    ? string[]
    : O['type'] extends 'number'
      ? O extends { default: number } | { required: true }
        ? number
        : number | undefined
      : O extends { default: string } | { required: true }
        ? string
        : string | undefined;

/** The typed values of a command's options, derived from its specs. */
export type OptionValues<Os extends OptionSpecs> = { -readonly [K in keyof Os]: OptionValue<Os[K]> };

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
}

export interface ParsedArgs<Os extends OptionSpecs = OptionSpecs> {
  readonly values: OptionValues<Os>;
  readonly positionals: readonly string[];
}

export type ParseResult<Os extends OptionSpecs = OptionSpecs> =
  | { readonly kind: 'ok'; readonly args: ParsedArgs<Os> }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string };

/** The options every command understands. */
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit 0' };

const isList = (spec: OptionSpec): boolean => spec.multiple === true || spec.variadic === true;

/** `--name` (and `-n`) as the user may type it; `<value>` shown for options that take one. */
export function formatOptionName(name: string, spec: OptionSpec): string {
  const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}`;
  if (spec.type === 'boolean') return flag;
  const value = spec.choices ? spec.choices.join('|') : (spec.valueName ?? (spec.type === 'number' ? 'n' : 'value'));
  return `${flag} <${value}>${spec.variadic ? '...' : ''}`;
}

/** The closest known name, when it is close enough to be a plausible typo. */
export function suggestName(input: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(input, known);
  return distance(input, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function checkValue(name: string, spec: OptionSpec, raw: string): { value: string | number } | { problem: string } {
  const shown = spec.secret ? '' : ` (got '${raw}')`;
  if (spec.choices && !spec.choices.includes(raw)) return { problem: `option --${name} must be one of ${spec.choices.join(', ')}${shown}` };
  if (spec.type === 'number') {
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    const min = spec.min ?? Number.MIN_SAFE_INTEGER;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(value) || value < min || value > max) return { problem: `option --${name} must be a number from ${min} to ${max}${shown}` };
    return { value };
  }
  const problem = spec.check?.(raw);
  if (problem) return { problem: `option --${name} ${problem}${shown}` };
  return { value: raw };
}

/**
 * argv (after the command's name) → typed values, a help request, or the first usage error.
 * `--help`/`-h` anywhere before `--` wins over any error, so a half-typed line still shows help.
 */
export function parseCommandLine<Os extends OptionSpecs>(options: Os, positionals: readonly PositionalSpec[], argv: readonly string[]): ParseResult<Os> {
  const all: Record<string, OptionSpec> = { ...options, help: HELP_OPTION };
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(all)) {
    parseOptions[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}), ...(isList(spec) ? { multiple: true } : {}) };
  }
  const { tokens } = parseArgs({ args: [...argv], options: parseOptions, strict: false, allowPositionals: true, tokens: true });
  let terminated = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') terminated = true;
    else if (!terminated && token.kind === 'option' && token.name === 'help') return { kind: 'help' };
  }

  const raw = new Map<string, string[]>();
  const flags = new Set<string>();
  const bare: string[] = [];
  let variadic: string | null = null;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      variadic = null;
      continue;
    }
    if (token.kind === 'positional') {
      if (variadic !== null) raw.get(variadic)?.push(token.value);
      else bare.push(token.value);
      continue;
    }
    variadic = null;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) {
      const hint = suggestName(token.name, Object.keys(options));
      return { kind: 'error', message: `unknown option ${token.rawName.startsWith('--') ? `--${token.name}` : token.rawName}${hint ? ` (did you mean --${hint}?)` : ''}` };
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) return { kind: 'error', message: `option --${token.name} takes no value` };
      flags.add(token.name);
      continue;
    }
    // A value taken from the next word that looks like an option is a forgotten value (as strict mode says).
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && !spec.dashValues)) {
      return { kind: 'error', message: `option --${token.name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}` };
    }
    const list = raw.get(token.name) ?? [];
    if (list.length > 0 && !isList(spec)) return { kind: 'error', message: `option --${token.name} is given more than once` };
    list.push(token.value);
    raw.set(token.name, list);
    if (spec.variadic && !token.inlineValue) variadic = token.name;
  }

  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === 'boolean') {
      values[name] = flags.has(name);
      continue;
    }
    const given = raw.get(name);
    if (!given) {
      if (spec.required) return { kind: 'error', message: `option --${name} is required` };
      values[name] = isList(spec) ? [] : spec.default;
      continue;
    }
    const checked: (string | number)[] = [];
    for (const text of given) {
      const result = checkValue(name, spec, text);
      if ('problem' in result) return { kind: 'error', message: result.problem };
      checked.push(result.value);
    }
    values[name] = isList(spec) ? checked : checked[0];
  }

  const missing = positionals.find((p, i) => p.required && bare[i] === undefined);
  if (missing) return { kind: 'error', message: `missing argument <${missing.name}>` };
  if (bare.length > positionals.length) {
    // Counted, not repeated: a stray word may be a secret whose option name was mistyped.
    const extra = bare.length - positionals.length;
    return { kind: 'error', message: positionals.length === 0 ? `takes no arguments (got ${extra})` : `too many arguments (${extra} more than <${positionals.map((p) => p.name).join('> <')}>)` };
  }
  return { kind: 'ok', args: { values: values as OptionValues<Os>, positionals: bare } };
}

/** The options block of a help text, one line per option, with its default. */
export function formatOptions(options: OptionSpecs): string[] {
  const rows = [...Object.entries(options), ['help', HELP_OPTION] as const].map(([name, spec]) => {
    const extras = [spec.required ? 'required' : '', spec.default !== undefined ? `default: ${spec.default}` : '', spec.variadic ? 'several values allowed' : spec.multiple ? 'repeatable' : '']
      .filter(Boolean)
      .join('; ');
    return [formatOptionName(name, spec), `${spec.description}${extras ? ` (${extras})` : ''}`] as const;
  });
  const width = Math.min(40, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) => (left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`));
}
