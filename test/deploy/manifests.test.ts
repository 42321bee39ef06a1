import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildK8sBundle, resolveK8sOptions } from '../../src/deploy/index.js';
import { DEFAULT_PLAN } from '../../src/rollout/plan.core.js';
import { plan } from '../rollout/e2e/helpers.js';
import { validateObject } from './models.js';

type Obj = Record<string, unknown>;
const all = (bundle: ReturnType<typeof buildK8sBundle>) => bundle.files.flatMap((f) => f.objects).filter((o) => o.kind !== 'Kustomization');
const find = (objects: readonly Obj[], kind: string, name?: string) => objects.find((o) => o.kind === kind && (!name || (o.metadata as { name: string }).name === name)) as Obj & { spec: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('boka deploy k8s: every object validates against the kubernetes-models schemas', () => {
  const cases = [
    { label: 'default plan, NGINX Ingress', plan: DEFAULT_PLAN, traffic: 'nginx' as const },
    { label: 'default plan, Gateway API', plan: DEFAULT_PLAN, traffic: 'gateway-api' as const },
    {
      label: 'freeze plan with manual gate and a custom query rule',
      plan: plan(`
rollback: freeze
steps: [{ weight: 5, duration: 1m, gate: manual }, { weight: 100 }]
rules:
  - { name: slow, metric: p95_latency_ms, op: ">", threshold: 300ms, for: 1m, action: rollback, compareWithBlue: false }
  - { name: custom, metric: queue_depth, op: ">", threshold: 10, action: pause, query: 'max(q{c="$color"})' }
metrics: { prometheus: { url: "http://127.0.0.1:9090" } }
`),
      traffic: 'nginx' as const,
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const bundle = buildK8sBundle(c.plan, resolveK8sOptions({ image: 'registry.example/boka:2.3.4', traffic: c.traffic }));
      const kinds = all(bundle).map(validateObject);
      for (const kind of ['batch/v1/Job', 'argoproj.io/v1alpha1/Rollout', 'argoproj.io/v1alpha1/AnalysisTemplate', 'v1/Service', 'policy/v1/PodDisruptionBudget', 'autoscaling/v2/HorizontalPodAutoscaler', 'monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'v1/ConfigMap']) {
        assert.ok(kinds.includes(kind), `${kind} generated`);
      }
      assert.ok(kinds.includes(c.traffic === 'nginx' ? 'networking.k8s.io/v1/Ingress' : 'gateway.networking.k8s.io/v1/HTTPRoute'));
      const kustomization = bundle.files.at(-1)!;
      assert.deepEqual((kustomization.objects[0] as { resources: string[] }).resources, bundle.files.slice(0, -1).map((f) => f.file));
    });
  }

  it('the validation itself rejects a malformed Rollout (the check can fail)', () => {
    const rollout = find(all(buildK8sBundle(DEFAULT_PLAN, resolveK8sOptions({ image: 'x/boka:1' }))), 'Rollout');
    assert.throws(() => validateObject({ ...rollout, spec: { ...rollout.spec, replicas: 'three' } }), /Rollout boka/);
  });
});

describe('boka deploy k8s: what the objects say', () => {
  const objects = all(buildK8sBundle(DEFAULT_PLAN, resolveK8sOptions({ image: 'registry.example/boka:2.3.4' })));
  const rollout = find(objects, 'Rollout');
  const container = rollout.spec.template.spec.containers[0];

  it('the plan steps become setWeight + pause, smoke analysis before traffic, bake as the last pause', () => {
    const steps = rollout.spec.strategy.canary.steps as Obj[];
    assert.deepEqual(steps.filter((s) => 'setWeight' in s).map((s) => s.setWeight), [10, 25, 50, 75, 100]);
    assert.deepEqual(steps.filter((s) => 'pause' in s).map((s) => (s.pause as { duration: string }).duration), ['5m', '10m', '15m', '15m', '2h']);
    const smoke = steps.findIndex((s) => 'analysis' in s);
    assert.ok(smoke >= 0 && smoke < steps.findIndex((s) => 'setWeight' in s));
    assert.equal(rollout.spec.strategy.canary.analysis.startingStep, steps.findIndex((s) => 'setWeight' in s));
    assert.equal(rollout.spec.strategy.canary.scaleDownDelaySeconds, 7200);
  });

  it('BOKA_VERSION comes from the image tag and matches the label the analysis reads', () => {
    assert.deepEqual(container.env.find((e: { name: string }) => e.name === 'BOKA_VERSION'), { name: 'BOKA_VERSION', value: '2.3.4' });
    assert.equal(rollout.spec.template.metadata.labels['app.kubernetes.io/version'], '2.3.4');
    assert.equal((rollout.metadata as { labels: Record<string, string> }).labels['app.kubernetes.io/version'], '2.3.4');
  });

  it('probes, shutdown timing, security context', () => {
    assert.equal(container.livenessProbe.httpGet.path, '/api/health');
    assert.equal(container.readinessProbe.httpGet.path, '/api/health/ready');
    const config = find(objects, 'ConfigMap').data as Record<string, string>;
    const grace = rollout.spec.template.spec.terminationGracePeriodSeconds as number;
    assert.ok(grace * 1000 > Number(config.SHUTDOWN_TIMEOUT_MS) + container.lifecycle.preStop.sleep.seconds * 1000);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.runAsNonRoot, true);
  });

  it('the pre-rollout migration Job applies expand migrations only, with the release image, outside every selector', () => {
    const job = find(objects, 'Job');
    assert.equal((job.metadata as { name: string }).name, 'boka-migrate-2-3-4');
    assert.equal((job.metadata as { annotations: Record<string, string> }).annotations['argocd.argoproj.io/hook'], 'PreSync');
    const migrate = job.spec.template.spec.containers[0];
    assert.equal(migrate.image, 'registry.example/boka:2.3.4');
    assert.deepEqual(migrate.command, ['node', 'bin/boka.mjs', 'db', 'migrate', '--phase', 'expand']);
    assert.deepEqual(migrate.env.find((e: { name: string }) => e.name === 'BOKA_VERSION'), { name: 'BOKA_VERSION', value: '2.3.4' });
    for (const name of ['DATABASE_URL', 'BOKA_SECRET_KEY']) {
      assert.ok(migrate.env.find((e: { name: string; valueFrom?: { secretKeyRef?: unknown } }) => e.name === name)?.valueFrom?.secretKeyRef, `${name} from the Secret`);
    }
    // The Services, PDB and HPA select on the Rollout's labels; the Job's pod must match none of them.
    const podLabels = job.spec.template.metadata.labels as Record<string, string>;
    for (const o of objects.filter((x) => x.kind === 'Service' || x.kind === 'PodDisruptionBudget')) {
      const sel = ((o.spec as { selector?: Record<string, unknown> }).selector?.matchLabels ?? (o.spec as { selector?: Record<string, string> }).selector) as Record<string, string>;
      assert.ok(!Object.entries(sel).every(([k, v]) => podLabels[k] === v), `${String(o.kind)} would select the migration pod`);
    }
    // No contract migration inside a rollout: nothing else in the bundle runs `db migrate`.
    const others = JSON.stringify(objects.filter((o) => o !== job));
    assert.doesNotMatch(others, /db['"],\s*['"]migrate/);
  });

  it('the Job name follows the image tag as a DNS label', () => {
    const job = find(all(buildK8sBundle(DEFAULT_PLAN, resolveK8sOptions({ image: 'r.example/boka:V2_0.1-RC.3' }))), 'Job');
    assert.equal((job.metadata as { name: string }).name, 'boka-migrate-v2-0-1-rc-3');
  });

  it('secrets are only referenced, never written', () => {
    const text = JSON.stringify(objects);
    assert.ok(!objects.some((o) => o.kind === 'Secret'), 'no Secret object');
    for (const e of container.env as { name: string; value?: string; valueFrom?: { secretKeyRef?: unknown } }[]) {
      if (['DATABASE_URL', 'BOKA_SECRET_KEY', 'REDIS_URL', 'HEALTH_TOKEN', 'METRICS_TOKEN', 'SMTP_URL'].includes(e.name)) {
        assert.equal(e.value, undefined, `${e.name} has no literal value`);
        assert.ok(e.valueFrom?.secretKeyRef, `${e.name} is a secretKeyRef`);
      }
    }
    assert.doesNotMatch(text, /postgres:\/\/|redis:\/\//);
  });

  it('the analysis: one metric per rule, no data inconclusive, pause rules never fail', () => {
    const template = find(objects, 'AnalysisTemplate', 'boka-rollout');
    const metrics = template.spec.metrics as { name: string; successCondition: string; failureCondition: string; provider: { prometheus: { query: string } } }[];
    assert.deepEqual(metrics.map((m) => m.name), DEFAULT_PLAN.rules.map((r) => r.name));
    for (const m of metrics) {
      const guard = 'and on() (sum(increase(boka_http_requests_total{version="{{args.canary-version}}",route!~"/metrics|/api/health(/.*)?"}[1m])) >= 30)';
      assert.ok(m.provider.prometheus.query.includes(guard), `${m.name}: minSamples guard`);
      assert.match(m.provider.prometheus.query, /or on\(\)\nvector\(-1\)$/, `${m.name}: no data is -1`);
      // Argo: when neither condition holds, the measurement is Inconclusive.
      const run = (cond: string, value: number) => new Function('result', `return ${cond}`)([value]) as boolean;
      assert.equal(run(m.successCondition, -1) || run(m.failureCondition, -1), false, `${m.name}: -1 is neither a pass nor a fail`);
      assert.equal(run(m.successCondition, -2) || run(m.failureCondition, -2), false, `${m.name}: -2 (excused) is neither`);
    }
    const auth = metrics.find((m) => m.name === 'auth-failures')!;
    assert.equal(auth.failureCondition, 'false');
  });
});
