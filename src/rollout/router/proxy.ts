import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { errors } from 'undici';
import { buildErrorBody, type ErrorCode } from '../../errors/index.js';
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

/**
 * Streams the upstream body to the client. Hand-rolled instead of stream/promises `pipeline`,
 * which allocates an AbortController per call and aborts it (a DOMException) at the end: about
 * 10 % of the router's CPU in the profile. A client that hangs up rejects (the caller's 'close'
 * listener has already aborted the upstream request).
 */
function pipeBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      body.unpipe(res);
      body.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    body.once('error', fail);
    res.once('error', fail);
    res.once('finish', resolve);
    res.once('close', () => {
      if (!res.writableFinished) fail(new Error('client closed the connection'));
    });
    body.pipe(res);
  });
}

/**
 * The catalogue error shape (docs/errors.md) for a color that did not answer, so clients see
 * the same body from the router as from Boka: 503 `service_unavailable` (with Retry-After) or
 * 504 `timeout`. The color is in `x-boka-color`, the cause only in the router's error list.
 */
function upstreamErrorBody(code: Extract<ErrorCode, 'service_unavailable' | 'timeout'>, req: IncomingMessage) {
  const incoming = req.headers['x-request-id'];
  return buildErrorBody(code, { requestId: typeof incoming === 'string' && incoming.length <= 128 ? incoming : undefined });
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
  // undici accepts an EventEmitter as the abort signal; it is much cheaper per request than an
  // AbortController (whose signal and DOMException showed as ~10 % of the router's CPU profile).
  const abort = new EventEmitter();
  let aborted = false;
  const onClose = () => {
    if (res.writableFinished) return;
    aborted = true;
    abort.emit('abort');
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
      signal: abort,
    });
    status = response.statusCode;
    const out = copyHeaders(response.headers);
    out['x-boka-color'] = ctx.color;
    if (ctx.setCookie) {
      const existing = out['set-cookie'];
      out['set-cookie'] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), ctx.setCookie];
    }
    res.writeHead(status, out);
    await pipeBody(response.body, res);
    if (status >= 500) detail = `${status} from ${upstream.url}`;
  } catch (error) {
    if (aborted) {
      // The client went away: not the color's fault, so it is counted like nginx's 499.
      status = 499;
      detail = null;
    } else if (!res.headersSent) {
      const timedOut = error instanceof errors.HeadersTimeoutError;
      status = timedOut ? 504 : 503;
      detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      res.writeHead(status, { 'content-type': 'application/json', 'x-boka-color': ctx.color, ...(timedOut ? {} : { 'retry-after': '1' }) });
      res.end(JSON.stringify(upstreamErrorBody(timedOut ? 'timeout' : 'service_unavailable', req)));
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
