import { parseListen } from '../rollout/cli-args.js';
import { defineCommand, defineGroup, JSON_OPTION, type CommandGroup } from './define.js';

/**
 * Every `boka` command: help text, parsing and test/cli/help-walk.test.ts all come from this
 * table. Handlers are imported on use, so `boka smoke` does not load the database driver.
 * Add a command: one entry here, with a handler taking the parsed values.
 */

const listen = (example: string) => (text: string) => (parseListen(text) ? null : `must look like ${example}`);
const plan = { type: 'string', valueName: 'file', description: 'rollout plan (YAML); without it the built-in default plan' } as const;
const controller = {
  controller: { type: 'string', valueName: 'url', description: 'control API URL that `boka rollout start` prints (default: BOKA_ROLLOUT_CONTROLLER)' },
  token: { type: 'string', valueName: 'token', secret: true, description: 'operator token (visible in process listings: prefer --token-file or BOKA_ROLLOUT_TOKEN)' },
  'token-file': { type: 'string', valueName: 'file', description: 'file holding the operator token' },
} as const;
const remote = (name: 'status' | 'pause' | 'resume' | 'promote' | 'abort' | 'rollback', summary: string) =>
  defineCommand({
    summary,
    options: {
      ...controller,
      by: { type: 'string', valueName: 'name', description: 'who is acting, written to the event log (default: $USER)' },
      force: { type: 'boolean', description: 'rollback: go back to blue even though blue\'s last deep health check failed' },
      json: JSON_OPTION,
    },
    exitCodes: [[1, 'refused by the controller, or the controller is unreachable']],
    run: async (args) => (await import('../rollout/cli.js')).runRemote(name, args.values),
  });

const startOptions = {
  plan,
  router: { type: 'string', valueName: 'admin url', description: 'attach to a running `boka router serve` through its admin API' },
  'admin-token-file': { type: 'string', valueName: 'file', description: 'with --router: file holding the router admin token (default: BOKA_ROLLOUT_TOKEN)' },
  driver: { type: 'string', choices: ['nginx'], description: 'drive nginx instead of a Boka router' },
  'nginx-include': { type: 'string', valueName: 'file', description: 'with --driver nginx: the upstream include file to rewrite' },
  'nginx-status': { type: 'string', valueName: 'host:port', description: 'with --driver nginx: the stub_status / metrics listener' },
  'nginx-upstream': { type: 'string', valueName: 'name', default: 'boka', description: 'with --driver nginx: upstream block name' },
  'nginx-bin': { type: 'string', valueName: 'path', description: 'with --driver nginx: nginx binary (default: nginx on PATH)' },
  'nginx-arg': { type: 'string', valueName: 'arg', multiple: true, dashValues: true, description: 'with --driver nginx: one more argument for every nginx call (e.g. --nginx-arg -p --nginx-arg /etc/nginx)' },
  blue: { type: 'string', valueName: 'url', variadic: true, description: 'blue (current) instance URLs' },
  green: { type: 'string', valueName: 'url', variadic: true, description: 'green (new) instance URLs' },
  listen: { type: 'string', valueName: 'host:port', default: '127.0.0.1:8080', check: listen('127.0.0.1:8080'), description: 'embedded router: traffic listener' },
  'admin-listen': { type: 'string', valueName: 'host:port', default: '127.0.0.1:8081', check: listen('127.0.0.1:8081'), description: 'embedded router: admin API listener' },
  'admin-token': { type: 'string', valueName: 'token', secret: true, description: 'embedded router: admin API token (default: BOKA_ROLLOUT_TOKEN; argv is visible in process listings)' },
  'exit-on-finish': { type: 'boolean', description: 'embedded router: exit when the rollout ends instead of serving on' },
  'report-dir': { type: 'string', valueName: 'dir', description: 'where events, state and reports go (default: rollouts)' },
  'green-version': { type: 'string', valueName: 'version', description: 'label of the green release in reports' },
  'no-resume': { type: 'boolean', description: 'start a new rollout even if an unfinished one is found under --report-dir' },
  'no-view': { type: 'boolean', description: 'no live view; print decisions as lines' },
  'control-listen': { type: 'string', valueName: 'host:port', default: '127.0.0.1:0', check: listen('127.0.0.1:8082'), description: 'control API + dashboard (port 0: a free one, printed at start)' },
} as const;

export const COMMANDS: CommandGroup = defineGroup('operator commands for Boka', {
  db: defineGroup('migrations, status and backups of the database', {
    migrate: defineCommand({
      summary: 'apply pending migrations (contract ones only once no older build runs, ADR 0010)',
      options: {
        plan: { type: 'boolean', description: 'print the pending migrations and what would happen; apply nothing (exit 0)' },
        'dry-run': { type: 'boolean', description: 'the same as --plan' },
        phase: { type: 'string', choices: ['expand', 'all'], default: 'all', description: '`expand`: stop before the first pending contract migration (the pre-rollout step)' },
        force: { type: 'boolean', description: 'apply a refused contract migration anyway (prints the instances it would break)' },
        json: JSON_OPTION,
      },
      exitCodes: [[1, 'a migration was refused or failed; the plan is printed on stderr']],
      run: async (args) => (await import('./db.command.js')).runMigrate(args.values),
    }),
    status: defineCommand({
      summary: 'print {"current","latest","required"} migration numbers (always JSON)',
      options: { json: JSON_OPTION },
      exitCodes: [[1, 'the database is behind the required migration (or unreadable)']],
      run: async () => (await import('./db.command.js')).runStatus(),
    }),
    backup: defineCommand({
      summary: 'write a backup (pg_dump, or a data-dir dump for the embedded database)',
      options: {
        dir: { type: 'string', valueName: 'dir', description: 'where to write (default: BACKUP_DIR)' },
        verify: { type: 'boolean', description: 'restore into a scratch database and compare row counts' },
        json: JSON_OPTION,
      },
      exitCodes: [[1, 'the backup or its verification failed']],
      run: async (args) => (await import('./db.command.js')).runBackup(args.values),
    }),
    restore: defineCommand({
      summary: 'replace the database contents with a backup',
      options: { yes: { type: 'boolean', description: 'confirm: the current contents are replaced' } },
      positionals: [{ name: 'file', description: 'the backup file', required: true }],
      exitCodes: [[1, 'the restore failed'], [2, 'also: --yes is missing']],
      run: async (args) => (await import('./db.command.js')).runRestore(args.values, args.positionals),
    }),
    backups: defineCommand({
      summary: 'list backups; fail when none is younger than --max-age-hours',
      options: {
        dir: { type: 'string', valueName: 'dir', description: 'where backups are (default: BACKUP_DIR)' },
        'max-age-hours': { type: 'number', min: 0, max: 100_000, default: 24, description: 'age limit of the newest backup' },
        json: JSON_OPTION,
      },
      exitCodes: [[1, 'no backup younger than --max-age-hours']],
      run: async (args) => (await import('./db.command.js')).runBackups(args.values),
    }),
  }),
  keys: defineGroup('access-token signing keys', {
    rotate: defineCommand({
      summary: 'make a new signing key current; old tokens keep verifying until they expire',
      options: { json: JSON_OPTION },
      run: async (args) => (await import('./keys.command.js')).runKeys('rotate', args.values),
    }),
    list: defineCommand({
      summary: 'list the verification keys (kid, algorithm)',
      options: { json: JSON_OPTION },
      run: async (args) => (await import('./keys.command.js')).runKeys('list', args.values),
    }),
  }),
  audit: defineGroup('the audit log', {
    verify: defineCommand({
      summary: 're-walk the platform and tenant hash chains; report the first broken link of each',
      options: { json: JSON_OPTION },
      exitCodes: [[1, 'a chain is broken']],
      run: async (args) => (await import('./audit.command.js')).runVerify(args.values),
    }),
  }),
  admin: defineGroup('platform administration', {
    'create-superadmin': defineCommand({
      summary: 'promote an account to superadmin, or create it (password from stdin only)',
      options: {
        email: { type: 'string', valueName: 'email', required: true, description: 'the account' },
        name: { type: 'string', valueName: 'name', description: 'display name when the account is created' },
        'password-stdin': { type: 'boolean', description: 'read the new account password from stdin (never from argv or the environment)' },
        json: JSON_OPTION,
      },
      exitCodes: [[1, 'refused (the reason is on stderr) or the audit write failed']],
      run: async (args) => (await import('./admin.command.js')).runCreateSuperadmin(args.values),
    }),
  }),
  rollout: defineGroup('blue-green rollouts (docs/rollout.md)', {
    start: defineCommand({
      summary: 'run a rollout: --router <admin url>, --driver nginx, or an embedded router with --blue/--green',
      description: [
        'Three ways to reach the traffic: attach to `boka router serve` (--router), drive nginx',
        '(--driver nginx with --nginx-include/--nginx-status and --blue/--green), or embed a router',
        'in this process (--blue/--green only; one host, the demo).',
        'Ctrl-C aborts (traffic back to blue); a second Ctrl-C or SIGTERM detaches.',
      ],
      options: startOptions,
      exitCodes: [
        [1, 'the rollout ended without promotion (rolled back or aborted), or could not start'],
        [2, 'also: an invalid plan or secret settings'],
        [3, 'refused: another controller holds the rollout lease'],
      ],
      run: async (args) => (await import('../rollout/cli.js')).runStart(args.values),
    }),
    status: remote('status', 'the phase, step, weight and last decision of a running rollout'),
    pause: remote('pause', 'hold the current weight'),
    resume: remote('resume', 'continue a paused rollout'),
    promote: remote('promote', 'skip the remaining steps: green to 100 %, then bake'),
    abort: remote('abort', 'move all traffic back to blue'),
    rollback: remote('rollback', 'move all traffic back to blue (refused while blue is unhealthy, unless --force)'),
    plan: defineCommand({
      summary: 'validate a plan and print it normalized (always JSON)',
      options: { plan, json: JSON_OPTION },
      exitCodes: [[2, 'also: the plan is invalid (every problem is listed on stderr)']],
      run: async (args) => (await import('../rollout/cli.js')).runPlan(args.values),
    }),
  }),
  router: defineGroup('the front door as its own service', {
    serve: defineCommand({
      summary: 'serve traffic to blue/green with health-aware routing and a persisted weight',
      description: [
        'Secrets come from the environment, or a file named by <NAME>_FILE:',
        '  BOKA_ROUTER_ADMIN_TOKEN     bearer token of the admin API and /metrics (without it: loopback callers only)',
        '  BOKA_ROUTER_STICKY_SECRET   32+ bytes, base64url: signs the sticky cookie (without it: random per start)',
        'SIGTERM/SIGINT: stop accepting, finish in-flight requests, exit 0.',
      ],
      options: {
        blue: { type: 'string', valueName: 'url', variadic: true, description: 'blue instance URLs (http://)' },
        green: { type: 'string', valueName: 'url', variadic: true, description: 'green instance URLs (http://)' },
        listen: { type: 'string', valueName: 'host:port', default: '0.0.0.0:8080', check: listen('0.0.0.0:8080'), description: 'traffic listener' },
        'admin-listen': { type: 'string', valueName: 'host:port', default: '127.0.0.1:8081', check: listen('127.0.0.1:8081'), description: 'admin API and /metrics listener' },
        'state-file': { type: 'string', valueName: 'file', description: 'where the weight survives restarts (without it: a restart starts at --initial-weight)' },
        'initial-weight': { type: 'number', min: 0, max: 100, default: 0, description: 'green share (%) when there is no state file' },
        'health-path': { type: 'string', valueName: 'path', default: '/api/health/ready', check: (p) => (p.startsWith('/') ? null : 'must start with /'), description: 'readiness path checked on every upstream' },
        'health-interval-ms': { type: 'number', min: 50, max: 60_000, default: 250, description: 'readiness check interval' },
        'health-timeout-ms': { type: 'number', min: 50, max: 60_000, default: 750, description: 'readiness check timeout' },
        'upstream-timeout-ms': { type: 'number', min: 100, max: 600_000, default: 30_000, description: 'upstream response timeout' },
        'shutdown-timeout-ms': { type: 'number', min: 0, max: 600_000, default: 10_000, description: 'in-flight requests are cut after this on shutdown' },
      },
      exitCodes: [[2, 'also: bad settings or secrets, or an unusable state file']],
      run: async (args) => (await import('../rollout/router/serve.command.js')).runServe(args.values),
    }),
  }),
  smoke: defineCommand({
    summary: 'signup → login → me → tenant → logout (and the plan’s extra checks) against a running Boka',
    options: { plan, json: JSON_OPTION },
    positionals: [{ name: 'url', description: 'base URL of the Boka to check', required: true }],
    exitCodes: [[1, 'a check failed'], [2, 'also: the plan is invalid']],
    run: async (args) => (await import('../rollout/cli.js')).runSmoke(args.values, args.positionals),
  }),
  deploy: defineGroup('Kubernetes manifests, Prometheus rules and a Grafana dashboard from the rollout plan', {
    k8s: defineCommand({
      summary: 'Argo Rollout, AnalysisTemplates, Services, Ingress/HTTPRoute, PDB, HPA, ServiceMonitor',
      description: ['Without --out the manifests go to stdout; plan fields that cannot be expressed exactly go to stderr.'],
      options: {
        image: { type: 'string', valueName: 'ref', required: true, description: 'container image reference' },
        plan,
        namespace: { type: 'string', valueName: 'ns', description: 'namespace (default: boka)' },
        host: { type: 'string', valueName: 'host', description: 'public host name' },
        traffic: { type: 'string', choices: ['nginx', 'gateway-api'], description: 'traffic routing (default: nginx)' },
        gateway: { type: 'string', valueName: 'ns/name', description: 'with --traffic gateway-api: the parent Gateway' },
        prometheus: { type: 'string', valueName: 'url', description: 'Prometheus address for the AnalysisTemplates' },
        out: { type: 'string', valueName: 'dir', description: 'write one file per manifest into this directory' },
      },
      exitCodes: [[1, 'the plan file cannot be read or is invalid']],
      run: async (args) => (await import('../deploy/deploy.command.js')).runK8s(args.values),
    }),
    'prometheus-rules': defineCommand({
      summary: 'recording and alerting rules for the rollout metrics',
      options: { plan, out: { type: 'string', valueName: 'file', description: 'write here instead of stdout' } },
      exitCodes: [[1, 'the plan file cannot be read or is invalid']],
      run: async (args) => (await import('../deploy/deploy.command.js')).runPrometheusRules(args.values),
    }),
    grafana: defineCommand({
      summary: 'a Grafana dashboard (JSON) for the rollout metrics',
      options: { plan, out: { type: 'string', valueName: 'file', description: 'write here instead of stdout' } },
      exitCodes: [[1, 'the plan file cannot be read or is invalid']],
      run: async (args) => (await import('../deploy/deploy.command.js')).runGrafana(args.values),
    }),
    examples: defineCommand({
      summary: 'regenerate examples/k8s/ from examples/rollout.yaml',
      options: {},
      run: async () => (await import('../deploy/deploy.command.js')).runExamples(),
    }),
  }),
});
