/**
 * `boka <command> …`: the entry point bin/boka.mjs runs (compiled or through tsx). The command
 * table is src/cli/commands.ts; parsing, help and exit codes are src/cli/run.ts.
 */
import { runCli } from './run.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
