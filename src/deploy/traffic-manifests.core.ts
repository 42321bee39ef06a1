import { labels, selector, type K8sOptions } from './k8s-options.core.js';

type Obj = Record<string, unknown>;

export interface TrafficManifests {
  readonly stableService: string;
  readonly canaryService: string;
  readonly metricsService: string;
  readonly services: Obj[];
  /** The Ingress or HTTPRoute. */
  readonly route: Obj;
  /** `spec.strategy.canary.trafficRouting` of the Rollout. */
  readonly trafficRouting: Obj;
}

function service(options: K8sOptions, name: string, extra: Obj = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labels(options) },
    spec: { selector: selector(options), ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...extra },
  };
}

/**
 * Stable and canary Services (Argo adds the pod-template-hash selectors), a headless Service
 * that selects every pod of both versions for the ServiceMonitor (the other two point at the same
 * pods outside a rollout, so scraping them would count every pod twice), and the route: an NGINX
 * Ingress (Argo clones it into the canary Ingress with the canary-weight annotations) or a Gateway
 * API HTTPRoute (Argo's gatewayAPI plugin edits its backend weights).
 */
export function buildTrafficManifests(options: K8sOptions): TrafficManifests {
  const stableService = options.name;
  const canaryService = `${options.name}-canary`;
  const metricsService = `${options.name}-metrics`;
  const services = [
    service(options, stableService),
    service(options, canaryService),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: metricsService, labels: { ...labels(options), 'app.kubernetes.io/component': 'metrics' } },
      spec: { clusterIP: 'None', selector: selector(options), ports: [{ name: 'http', port: options.port, targetPort: 'http', protocol: 'TCP' }] },
    },
  ];
  if (options.traffic === 'gateway-api') {
    const [gatewayNamespace, gatewayName] = options.gateway.includes('/') ? options.gateway.split('/', 2) : [undefined, options.gateway];
    return {
      stableService,
      canaryService,
      metricsService,
      services,
      route: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: options.name, labels: labels(options) },
        spec: {
          parentRefs: [{ name: gatewayName, ...(gatewayNamespace ? { namespace: gatewayNamespace } : {}) }],
          hostnames: [options.host],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/' } }],
              backendRefs: [
                { name: stableService, port: 80, weight: 100 },
                { name: canaryService, port: 80, weight: 0 },
              ],
            },
          ],
        },
      },
      trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: options.name, namespace: options.namespace } } },
    };
  }
  return {
    stableService,
    canaryService,
    metricsService,
    services,
    route: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: options.name, labels: labels(options) },
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            host: options.host,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: stableService, port: { name: 'http' } } } }] },
          },
        ],
      },
    },
    trafficRouting: { nginx: { stableIngress: options.name } },
  };
}
