import { readFileSync } from 'node:fs';
import type { Plan, Webhook } from './plan.schema.js';

/** Credentials the controller sends to the instances and webhooks; never logged. */
export interface RolloutSecrets {
  /** HEALTH_TOKEN of the instances, for the deep health probes. */
  readonly healthToken?: string;
  /** METRICS_TOKEN of the instances, for the scrapes. */
  readonly metricsToken?: string;
  /** METRICS_PORT of the instances (their separate metrics listener). */
  readonly metricsPort?: number;
  readonly webhookSecretFor: (hook: Webhook) => string | undefined;
}

function readSecretFile(path: string, what: string): string {
  try {
    const value = readFileSync(path, 'utf8').trim();
    if (!value) throw new Error('the file is empty');
    return value;
  } catch (error) {
    throw new Error(`cannot read ${what} from ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The plan's secret files first, the environment second (`HEALTH_TOKEN`, `METRICS_TOKEN`,
 * `METRICS_PORT`, `BOKA_WEBHOOK_SECRET`): the same names the instances read, so one
 * environment file can serve both. Read once at start; a named file that cannot be read is an
 * error, not a silent fallback.
 */
export function resolveRolloutSecrets(plan: Plan, env: Readonly<Record<string, string | undefined>>): RolloutSecrets {
  const healthToken = plan.healthTokenFile ? readSecretFile(plan.healthTokenFile, 'the health token') : env.HEALTH_TOKEN || undefined;
  const metricsToken = plan.metrics.scrape.tokenFile ? readSecretFile(plan.metrics.scrape.tokenFile, 'the metrics token') : env.METRICS_TOKEN || undefined;
  const portText = env.METRICS_PORT;
  const envPort = portText ? Number(portText) : undefined;
  if (envPort !== undefined && (!Number.isInteger(envPort) || envPort < 1 || envPort > 65535)) throw new Error(`METRICS_PORT must be a port number, got ${portText}`);
  const metricsPort = plan.metrics.scrape.port ?? envPort;
  const hookSecrets = new Map<string, string>();
  for (const hook of plan.webhooks) if (hook.secretFile) hookSecrets.set(hook.secretFile, readSecretFile(hook.secretFile, `the secret of webhook ${new URL(hook.url).host}`));
  const fallback = env.BOKA_WEBHOOK_SECRET || undefined;
  return {
    ...(healthToken ? { healthToken } : {}),
    ...(metricsToken ? { metricsToken } : {}),
    ...(metricsPort ? { metricsPort } : {}),
    webhookSecretFor: (hook) => (hook.secretFile ? hookSecrets.get(hook.secretFile) : fallback),
  };
}
