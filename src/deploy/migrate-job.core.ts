import { imageTag, type K8sOptions } from './k8s-options.core.js';
import { SECRET_KEYS } from './rollout-manifest.core.js';

type Obj = Record<string, unknown>;

/** A DNS-1123 label from an image tag: `1.4.2` → `1-4-2`. */
function dnsLabel(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'unversioned';
}

/** `boka-migrate-1-4-2`: one Job per release, so applying the next one never edits a finished Job (its pod template is immutable). */
export function migrateJobName(options: K8sOptions): string {
  return `${options.name}-migrate-${dnsLabel(imageTag(options.image))}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * The pre-rollout migration Job (ADR 0010): the new image runs `boka db migrate --phase expand`,
 * which applies the release's expand migrations and never a contract one, so the stable pods
 * keep working on the migrated schema. It must succeed before the Rollout's image changes: an
 * Argo CD PreSync hook does that by itself; a kubectl pipeline applies it and waits first
 * (docs/deploy-kubernetes.md). Contract migrations run after the release, by hand.
 */
export function buildMigrateJob(options: K8sOptions): Obj {
  const version = imageTag(options.image);
  // Not the Rollout's selector labels: the Services, the PDB and the HPA must never count this pod.
  const podLabels = {
    'app.kubernetes.io/name': `${options.name}-migrate`,
    'app.kubernetes.io/part-of': 'boka',
    'app.kubernetes.io/component': 'migrate',
    'app.kubernetes.io/version': version,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: migrateJobName(options),
      labels: podLabels,
      annotations: {
        'argocd.argoproj.io/hook': 'PreSync',
        'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      },
    },
    spec: {
      // postgrator runs each file in one transaction, so a retry starts clean; twice is enough to ride out a blip.
      backoffLimit: 1,
      activeDeadlineSeconds: 900,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: {
        metadata: { labels: podLabels },
        spec: {
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 1000 },
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'migrate',
              image: options.image,
              command: ['node', 'bin/boka.mjs', 'db', 'migrate', '--phase', 'expand'],
              envFrom: [{ configMapRef: { name: `${options.name}-config` } }],
              env: [
                { name: 'BOKA_VERSION', value: version },
                ...SECRET_KEYS.filter((k) => k.env === 'DATABASE_URL' || k.env === 'BOKA_SECRET_KEY').map((k) => ({
                  name: k.env,
                  valueFrom: { secretKeyRef: { name: options.secretName, key: k.env } },
                })),
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                runAsGroup: 1000,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}
