/** Options of `boka deploy k8s`; `resolveK8sOptions` fills the defaults in one place. */
export interface K8sOptions {
  readonly image: string;
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly traffic: 'nginx' | 'gateway-api';
  /** Gateway API only: the Gateway the HTTPRoute attaches to (`namespace/name` or `name`). */
  readonly gateway: string;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly port: number;
  readonly prometheusAddress: string;
  /** The Secret the manifests reference by key; its values are never written. */
  readonly secretName: string;
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;
}

export const K8S_DEFAULTS = {
  name: 'boka',
  namespace: 'boka',
  host: 'boka.example.com',
  traffic: 'nginx',
  gateway: 'gateway',
  replicas: 3,
  maxReplicas: 10,
  port: 3000,
  prometheusAddress: 'http://prometheus-operated.monitoring.svc:9090',
  secretName: 'boka-secrets',
  shutdownDelayMs: 5_000,
  shutdownTimeoutMs: 30_000,
} as const satisfies Omit<K8sOptions, 'image'>;

export function resolveK8sOptions(partial: Partial<K8sOptions> & { image: string }): K8sOptions {
  return { ...K8S_DEFAULTS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)), image: partial.image } as K8sOptions;
}

/** `ghcr.io/acme/boka:1.4.2` → `1.4.2`; a digest or no tag → `latest`-free fallback `unversioned`. */
export function imageTag(image: string): string {
  const last = image.split('/').at(-1) ?? image;
  const at = last.indexOf('@');
  const name = at === -1 ? last : last.slice(0, at);
  const colon = name.indexOf(':');
  return colon === -1 ? 'unversioned' : name.slice(colon + 1);
}

export function labels(options: K8sOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': options.name, 'app.kubernetes.io/part-of': 'boka' };
}

export function selector(options: K8sOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': options.name };
}
