/**
 * The layering rule (docs/adr/0008-layers.md), checked by `npm run deps` inside `npm test`.
 * Lower rooms never import higher ones, not even for a type; no import cycles at all.
 */
const LAYERS = [
  ['errors'],
  ['config', 'shared'],
  ['db', 'cache', 'mail', 'jobs'],
  ['http'],
  ['access'],
  ['auth', 'api-keys', 'mfa', 'rate-limit', 'admin', 'tenancy', 'booking', 'invitations', 'audit', 'ops', 'rollout', 'deploy', 'passkeys', 'oidc', 'idempotency', 'notifications', 'webhooks'],
];
// The top floor: composition and entry points (src/app.ts, src/app-services.ts, src/main.ts, src/cli/).

const dirs = (names) => `^src/(${names.join('|')})/`;

const upward = LAYERS.map((layer, i) => ({
  name: `layer-${i}-${layer[0]}-imports-upward`,
  comment: `${layer.join(', ')} may import only ${LAYERS.slice(0, i + 1).flat().join(', ')} (and node_modules)`,
  severity: 'error',
  from: { path: dirs(layer) },
  to: { path: '^src/', pathNot: dirs(LAYERS.slice(0, i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle is a design question: split the shared part into a lower room.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'src-imports-no-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a lower room may not even name a higher one's types.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
