/**
 * `boka <command> …` — one entry point for operator commands. Each command lives in its own
 * module and is imported lazily, so `boka smoke` does not load the database driver.
 * Add a command: one line in COMMANDS, exporting `run(argv): Promise<number>` (exit code).
 */
type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  db: { summary: 'db migrate | status | backup [--verify] | restore <file> --yes | backups', load: () => import('./db.command.js') },
  keys: { summary: 'keys rotate | keys list — access-token signing keys', load: () => import('./keys.command.js') },
  audit: { summary: 'audit verify — re-walk the audit hash chains', load: () => import('./audit.command.js') },
  rollout: {
    summary: 'rollout start --blue <url> --green <url> [--plan f] | status | pause | resume | promote | abort | rollback | plan',
    load: async () => ({ run: (await import('../rollout/cli.js')).runRolloutCli }),
  },
  router: { summary: 'router serve --blue <url> --green <url> [--listen h:p] [--admin-listen h:p] [--state-file f] — the front door as a service', load: () => import('../rollout/router/serve.command.js') },
  smoke: { summary: 'smoke <url> — signup → login → me → tenant → logout against a running Boka', load: async () => ({ run: (await import('../rollout/cli.js')).runSmokeCli }) },
  deploy: { summary: 'deploy k8s --image <ref> | prometheus-rules | grafana [--plan f] — manifests, rules, dashboard from the rollout plan', load: () => import('../deploy/deploy.command.js') },
  admin: { summary: 'admin create-superadmin --email <e> [--password-stdin]', load: () => import('./admin.command.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  boka ${name.padEnd(10)} ${c.summary}`);
  return ['usage: boka <command> [options]', '', ...lines].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(usage());
    return name === undefined || name === '--help' || name === 'help' ? 0 : 2;
  }
  return (await command.load()).run(rest);
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
