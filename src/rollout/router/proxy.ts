import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import { buildErrorBody, type ErrorCode } from '../../errors/index.js';
import type { Color } from '../decision.types.js';
import type { ColorPool } from './color-pool.js';
import { RETRY_STATUSES, retryPlan } from './edge.core.js';

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

export interface ForwardTarget {
  readonly color: Color;
  readonly pool: ColorPool;
}

/** What the edge counts beyond status classes (the router's /metrics). */
export interface EdgeEvents {
  upstreamError(color: Color, kind: 'connect' | 'timeout' | 'body'): void;
  retry(from: Color, to: Color): void;
}

export interface ForwardContext {
  readonly color: Color;
  readonly pool: ColorPool;
  readonly now: () => number;
  readonly setCookie: string | null;
  /** The other color for one retry, asked only when needed: null when it has nothing routable. */
  readonly fallback?: () => ForwardTarget | null;
  /** A failed connection ejects that upstream at once (when active checks run to bring it back). */
  readonly passiveEjection?: boolean;
  readonly events?: EdgeEvents;
}

// Failures where the upstream never answered: nothing was, or could have been, half-sent back.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

/** The connection failed: nothing answered (refused, reset, unreachable, connect timeout). */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  return CONNECTION_CODES.has(String(e?.code)) || CONNECTION_CODES.has(String(e?.cause?.code));
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return `${error.name}: ${error.message}${code && !error.message.includes(String(code)) ? ` (${String(code)})` : ''}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('client aborted the request body')));
  });
}

function forwardedHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers = copyHeaders(req.headers);
  const remote = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
  headers['x-forwarded-proto'] = 'http';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  return headers;
}

/**
 * Forwards one request to the chosen color and streams the answer back. The color was chosen
 * before this call, so a weight change never moves a request that is already in flight.
 *
 * A request that may be replayed (edge.core.ts `retryPlan`: GET/HEAD/OPTIONS or an
 * Idempotency-Key, with no body or a small one, buffered) is sent once more, to the other
 * color, when the first could not connect or answered 502/503/504. The failed attempt still
 * counts against its color: the rollout sees the failure the client was spared.
 */
export async function forwardRequest(req: IncomingMessage, res: ServerResponse, ctx: ForwardContext): Promise<void> {
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
  try {
    const plan = ctx.fallback ? retryPlan(req.method, req.headers) : null;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let body: IncomingMessage | Buffer | null = hasBody ? req : null;
    if (hasBody && plan) {
      // A replayable request declares no body (then it has none: RFC 9112 §6.3) or a small one.
      try {
        body = plan.bufferBody ? await readBody(req) : null;
      } catch {
        return; // The client went away while sending; nothing was forwarded.
      }
    }
    const headers = forwardedHeaders(req);
    let target: ForwardTarget = { color: ctx.color, pool: ctx.pool };
    let retriedFrom: Color | null = null;
    for (;;) {
      // Only a request whose body is buffered (or absent) can be sent twice.
      const mayRetry = plan !== null && retriedFrom === null && (body === null || Buffer.isBuffer(body));
      const outcome = await attempt(req, res, ctx, target, headers, body, abort, () => aborted, retriedFrom, mayRetry);
      if (outcome === 'done') return;
      const fallback = aborted ? null : (ctx.fallback?.() ?? null);
      if (!fallback) {
        await outcome.deliver();
        return;
      }
      await outcome.discard(fallback.color);
      ctx.events?.retry(target.color, fallback.color);
      retriedFrom = target.color;
      target = fallback;
    }
  } finally {
    res.off('close', onClose);
  }
}

/** A failed first attempt, not yet shown to the client: either shown as is, or dropped for a retry. */
interface Retryable {
  deliver(): Promise<void>;
  discard(retryOn: Color): Promise<void>;
}

async function attempt(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ForwardContext,
  target: ForwardTarget,
  headers: Record<string, string | string[]>,
  body: IncomingMessage | Buffer | null,
  abort: EventEmitter,
  isAborted: () => boolean,
  retriedFrom: Color | null,
  mayRetry: boolean,
): Promise<'done' | Retryable> {
  const started = ctx.now();
  const upstream = target.pool.pickUpstream();
  target.pool.begin();
  let status = 502;
  let detail: string | null = null;
  let settled = false;
  const finish = () => {
    if (settled) return;
    settled = true;
    const ended = ctx.now();
    target.pool.end(ended, status, ended - started, detail === null ? null : { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] ?? '/', upstream: upstream.url, detail });
  };
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.pool.request({ method: (req.method ?? 'GET') as 'GET', path: req.url ?? '/', headers, body, signal: abort });
  } catch (error) {
    if (isAborted()) {
      // The client went away: not the color's fault, so it is counted like nginx's 499.
      status = 499;
      finish();
      return 'done';
    }
    const timedOut = error instanceof errors.HeadersTimeoutError;
    status = timedOut ? 504 : 503;
    detail = describe(error);
    const connection = !timedOut && isConnectionError(error);
    ctx.events?.upstreamError(target.color, timedOut ? 'timeout' : 'connect');
    if (connection && ctx.passiveEjection) target.pool.recordHealth(upstream.url, { ok: false, hard: true }, ctx.now(), `traffic: ${detail}`);
    const deliver = async () => {
      finish();
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json', 'x-boka-color': target.color, ...(timedOut ? {} : { 'retry-after': '1' }), ...(retriedFrom ? { 'x-boka-retried-from': retriedFrom } : {}) });
      res.end(JSON.stringify(upstreamErrorBody(timedOut ? 'timeout' : 'service_unavailable', req)));
    };
    if (connection && mayRetry) {
      return {
        deliver,
        async discard(retryOn) {
          detail = `${detail ?? ''} (retried on ${retryOn})`;
          finish();
        },
      };
    }
    await deliver();
    return 'done';
  }
  status = response.statusCode;
  if (status >= 500) detail = `${status} from ${upstream.url}`;
  const deliver = async () => {
    try {
      const out = copyHeaders(response.headers);
      out['x-boka-color'] = target.color;
      if (retriedFrom) out['x-boka-retried-from'] = retriedFrom;
      if (ctx.setCookie) {
        const existing = out['set-cookie'];
        out['set-cookie'] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), ctx.setCookie];
      }
      res.writeHead(status, out);
      await pipeBody(response.body, res);
    } catch (error) {
      if (isAborted()) {
        status = 499;
        detail = null;
      } else {
        // The body broke mid-stream; the client sees a truncated response, which counts as a failure.
        detail = error instanceof Error ? error.message : String(error);
        status = status >= 500 ? status : 502;
        ctx.events?.upstreamError(target.color, 'body');
        res.destroy();
      }
    } finally {
      finish();
    }
  };
  if (RETRY_STATUSES.has(status) && mayRetry) {
    return {
      deliver,
      async discard(retryOn) {
        detail = `${detail ?? ''} (retried on ${retryOn})`;
        finish();
        await response.body.dump({ limit: 65_536 }).catch(() => undefined);
      },
    };
  }
  await deliver();
  return 'done';
}
