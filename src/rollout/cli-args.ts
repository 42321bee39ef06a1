/** Argument parsing shared by `boka rollout …` and `boka router serve`. */
export type Flags = Record<string, string[]>;

/** `--blue a b --green c --no-view` → { blue: [a, b], green: [c], 'no-view': [] }, plus positionals; `--x=1` works too. */
export function parseFlags(argv: readonly string[]): { flags: Flags; positional: string[] } {
  const flags: Flags = {};
  const positional: string[] = [];
  let current: string[] | null = null;
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      current = flags[name] ?? (flags[name] = []);
      if (inline !== undefined) {
        current.push(inline);
        current = null;
      }
    } else if (current) current.push(arg);
    else positional.push(arg);
  }
  return { flags, positional };
}

export function one(flags: Flags, name: string): string | undefined {
  return flags[name]?.[0];
}

/** `127.0.0.1:8080` or `[::1]:8080` → host and port (0–65535); null otherwise. */
export function parseListen(text: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (!match?.[1] || !match[2] || Number(match[2]) > 65_535) return null;
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}
