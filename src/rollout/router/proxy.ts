import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { errors } from 'undici';
import type { Color } from '../decision.types.js';
import type { ColorPool } from './color-pool.js';

// RFC 9110 §7.6.1 hop-by-hop headers, plus ones undici refuses to forward.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
]);

function copyHeaders(source: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionTokens = String(source.connection ?? '').toLowerCase().split(',').map((s) => s.trim());
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface ForwardContext {
  readonly color: Color;
  readonly pool: ColorPool;
  readonly now: () => number;
  readonly setCookie: string | null;
}

/**
 * Forwards one request to the chosen color and streams the answer back. The color was chosen
 * before this call, so a weight change never moves a request that is already in flight.
 */
export async function forwardRequest(req: IncomingMessage, res: ServerResponse, ctx: ForwardContext): Promise<void> {
  const started = ctx.now();
  const upstream = ctx.pool.pickUpstream();
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  ctx.pool.begin();
  let status = 502;
  let detail: string | null = null;
  try {
    const headers = copyHeaders(req.headers);
    const remote = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
    headers['x-forwarded-proto'] = 'http';
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const response = await upstream.pool.request({
      method: (req.method ?? 'GET') as 'GET',
      path: req.url ?? '/',
      headers,
      body: hasBody ? req : null,
      signal: abort.signal,
    });
    status = response.statusCode;
    const out = copyHeaders(response.headers);
    out['x-boka-color'] = ctx.color;
    if (ctx.setCookie) {
      const existing = out['set-cookie'];
      out['set-cookie'] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), ctx.setCookie];
    }
    res.writeHead(status, out);
    await pipeline(response.body, res);
    if (status >= 500) detail = `${status} from ${upstream.url}`;
  } catch (error) {
    if (abort.signal.aborted) {
      // The client went away: not the color's fault, so it is counted like nginx's 499.
      status = 499;
      detail = null;
    } else if (!res.headersSent) {
      status = error instanceof errors.HeadersTimeoutError ? 504 : 502;
      detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      res.writeHead(status, { 'content-type': 'application/json', 'x-boka-color': ctx.color });
      res.end(JSON.stringify({ error: { code: 'UPSTREAM_UNAVAILABLE', message: `${ctx.color} did not answer` } }));
    } else {
      // The body broke mid-stream; the client sees a truncated response, which counts as a failure.
      detail = error instanceof Error ? error.message : String(error);
      status = status >= 500 ? status : 502;
      res.destroy();
    }
  } finally {
    res.off('close', onClose);
    const ended = ctx.now();
    ctx.pool.end(ended, status, ended - started, detail === null ? null : { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] ?? '/', upstream: upstream.url, detail });
  }
}
