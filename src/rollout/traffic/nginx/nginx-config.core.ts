/** Marker that makes the generated file recognisable (and refusable if someone edited it). */
const MANAGED_MARKER = '# managed by boka rollout: edits are overwritten';

export interface UpstreamSpec {
  readonly upstreamName: string;
  readonly blue: readonly string[];
  readonly green: readonly string[];
  /** host:port of the tiny loopback server that reports the weights nginx has loaded. */
  readonly statusListen: string;
}

function hostPort(url: string): string {
  const u = new URL(url);
  return u.port ? `${u.hostname}:${u.port}` : `${u.hostname}:${u.protocol === 'https:' ? 443 : 80}`;
}

/**
 * Per-server weights that give green exactly `weight` % of requests whatever the number of
 * servers per color. nginx has no weight 0, so an emptied color is marked `down`.
 */
export function computeServerWeights(weight: number, blueCount: number, greenCount: number): { blue: number | 'down'; green: number | 'down' } {
  const w = Math.round(weight);
  return {
    green: w === 0 ? 'down' : w * blueCount,
    blue: w === 100 ? 'down' : (100 - w) * greenCount,
  };
}

/** Renders the include file: the weighted upstream plus a loopback status server for read-back. */
export function renderNginxUpstream(spec: UpstreamSpec, weight: number, version: string): string {
  const weights = computeServerWeights(weight, spec.blue.length, spec.green.length);
  const line = (url: string, color: 'blue' | 'green') => {
    const w = weights[color];
    return `    server ${hostPort(url)} ${w === 'down' ? 'down' : `weight=${w}`}; # ${color}`;
  };
  const status = JSON.stringify({ greenWeight: Math.round(weight), version }).replace(/'/g, '');
  return [
    MANAGED_MARKER,
    `# green ${Math.round(weight)}% version ${version}`,
    `upstream ${spec.upstreamName} {`,
    ...spec.blue.map((u) => line(u, 'blue')),
    ...spec.green.map((u) => line(u, 'green')),
    '}',
    'server {',
    `    listen ${spec.statusListen};`,
    '    location = /_boka/weights {',
    '        default_type application/json;',
    `        return 200 '${status}';`,
    '    }',
    '}',
    '',
  ].join('\n');
}

/**
 * Reads green's share back from an upstream block as nginx prints it (`nginx -T`), so the
 * check does not trust our own file but what nginx parsed.
 */
export function parseGreenWeight(config: string, spec: UpstreamSpec): number | undefined {
  const block = new RegExp(`upstream\\s+${spec.upstreamName}\\s*\\{([^}]*)\\}`).exec(config)?.[1];
  if (!block) return undefined;
  const greenHosts = new Set(spec.green.map(hostPort));
  const blueHosts = new Set(spec.blue.map(hostPort));
  let green = 0;
  let blue = 0;
  for (const match of block.matchAll(/server\s+(\S+)([^;]*);/g)) {
    const host = match[1] ?? '';
    const params = match[2] ?? '';
    const weight = /\bdown\b/.test(params) ? 0 : Number(/weight=(\d+)/.exec(params)?.[1] ?? 1);
    if (greenHosts.has(host)) green += weight;
    else if (blueHosts.has(host)) blue += weight;
  }
  if (green + blue === 0) return undefined;
  return Math.round((green / (green + blue)) * 100);
}
