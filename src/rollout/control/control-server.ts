import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildErrorBody, ERROR_CATALOGUE, type ErrorCode } from '../../errors/index.js';
import type { RolloutStatus } from '../controller.service.js';
import type { Command } from '../decision.types.js';
import type { LoggedEvent } from '../event-log.js';
import { buildHistoryPage } from './history.core.js';
import { checkApiAccess, checkAssetAccess, checkCommandRequest, type GuardDecision } from './request-guard.js';
import { loadDashboardAssets } from './static-assets.js';

/** What the control API reads and drives: the running controller. */
export interface ControlTarget {
  readStatus(): RolloutStatus;
  sendCommand(command: Command, by: string, options?: { readonly force?: boolean }): Promise<{ accepted: boolean; message: string }>;
  /** Logged events with `seq > afterSeq`, oldest first. */
  readEvents(afterSeq: number): readonly LoggedEvent[];
}

export interface ControlServerOptions {
  readonly target: ControlTarget;
  /** The operator token (`--admin-token` / `BOKA_ROLLOUT_TOKEN`); without one, loopback only. */
  readonly token: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Where unexpected failures go (their detail never reaches the client). */
  readonly logError?: (message: string) => void;
}

export interface ControlServer {
  /** e.g. `http://127.0.0.1:8082`; the dashboard is at `${url}/ui`. */
  readonly url: string;
  close(): Promise<void>;
}

export const CONTROL_COMMANDS: readonly Command[] = ['pause', 'resume', 'promote', 'abort', 'rollback'];
const BODY_LIMIT = 4_096;
const HISTORY_LIMIT_MAX = 5_000;

/**
 * A strict policy works because the page has no inline script or style (ASVS 4.0.3 V14.4.3);
 * uPlot sizes its elements through the CSSOM, which `style-src 'self'` allows.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
} as const;

class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: Buffer | string, contentType: string, cache = 'no-store'): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'cache-control': cache });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

/** Every error in the one documented shape (docs/errors.md). */
function sendError(res: ServerResponse, code: ErrorCode, message: string, details?: unknown): void {
  sendJson(res, ERROR_CATALOGUE[code].status, buildErrorBody(code, { message, details }));
}

function assertAllowed(decision: GuardDecision): void {
  if (!decision.ok) throw new RequestError(decision.code, decision.message);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new RequestError('payload_too_large', `the body must be at most ${BODY_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RequestError('invalid_request', 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError('validation_error', 'the body must be a JSON object', [{ field: '', in: 'body', message: 'must be an object' }]);
  return body as Record<string, unknown>;
}

function parseCommandBody(body: Record<string, unknown>): { by: string; force: boolean } {
  const problems: { field: string; in: 'body'; message: string }[] = [];
  const by = body.by ?? 'operator';
  if (typeof by !== 'string' || by.trim() === '' || by.length > 64 || /[\u0000-\u001f\u007f]/.test(by)) problems.push({ field: 'by', in: 'body', message: 'must be 1 to 64 printable characters' });
  const force = body.force ?? false;
  if (typeof force !== 'boolean') problems.push({ field: 'force', in: 'body', message: 'must be a boolean' });
  const unknown = Object.keys(body).filter((k) => k !== 'by' && k !== 'force');
  for (const k of unknown) problems.push({ field: k, in: 'body', message: 'is not a known field' });
  if (problems.length > 0) throw new RequestError('validation_error', 'the command body must be {"by"?: string, "force"?: boolean}', problems);
  return { by: (by as string).trim(), force: force as boolean };
}

function parseSeq(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) > max) throw new RequestError('validation_error', `${name} must be an integer from 0 to ${max}`, [{ field: name, in: 'querystring', message: `must be an integer from 0 to ${max}` }]);
  return Number(raw);
}

function createHandler(options: ControlServerOptions) {
  const assets = loadDashboardAssets();
  const { target, token } = options;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control.invalid');
    const method = req.method ?? 'GET';
    const path = url.pathname;

    const asset = assets.get(path);
    if (asset) {
      if (method !== 'GET' && method !== 'HEAD') throw new RequestError('method_not_allowed', `${method} is not allowed on ${path}`);
      assertAllowed(checkAssetAccess(req, token));
      return send(res, 200, method === 'HEAD' ? '' : asset.body, asset.contentType, 'no-cache');
    }
    if (path === '/_rollout/status' || path === '/_rollout/history') {
      if (method !== 'GET') throw new RequestError('method_not_allowed', `${method} is not allowed on ${path}`);
      assertAllowed(checkApiAccess(req, token));
      if (path === '/_rollout/status') return sendJson(res, 200, target.readStatus());
      const after = parseSeq(url, 'after', 0, Number.MAX_SAFE_INTEGER);
      const limit = Math.max(1, parseSeq(url, 'limit', 2_000, HISTORY_LIMIT_MAX));
      return sendJson(res, 200, { rolloutId: target.readStatus().rolloutId, ...buildHistoryPage(target.readEvents(after), after, limit) });
    }
    const match = /^\/_rollout\/commands\/([^/]+)$/.exec(path);
    if (match) {
      if (method !== 'POST') throw new RequestError('method_not_allowed', `${method} is not allowed on ${path}`);
      assertAllowed(checkApiAccess(req, token));
      const command = decodeURIComponent(match[1] ?? '') as Command;
      if (!CONTROL_COMMANDS.includes(command)) throw new RequestError('not_found', `unknown command "${command.slice(0, 32)}"; one of ${CONTROL_COMMANDS.join(', ')}`);
      assertAllowed(checkCommandRequest(req));
      const { by, force } = parseCommandBody(await readJsonBody(req));
      const result = await target.sendCommand(command, by, force ? { force } : undefined);
      const status = target.readStatus();
      if (!result.accepted) throw new RequestError('conflict', result.message || `${command} refused`, { command, phase: status.phase, pauseReason: status.pauseReason });
      return sendJson(res, 200, { accepted: true, command, message: result.message, status });
    }
    throw new RequestError('not_found', `no route ${method} ${path.slice(0, 200)}`);
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await route(req, res);
    } catch (error) {
      if (res.headersSent) return;
      if (error instanceof RequestError) return sendError(res, error.code, error.message, error.details);
      if (error instanceof URIError) return sendError(res, 'invalid_request', 'the path is not valid percent-encoding');
      options.logError?.(`control API: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      sendError(res, 'internal_server_error', ERROR_CATALOGUE.internal_server_error.message);
    }
  };
}

/**
 * The controller's own control API and dashboard, on their own listener (loopback by default):
 * `GET /_rollout/status`, `GET /_rollout/history?after=<seq>`, `POST /_rollout/commands/:command`
 * and `/ui`. docs/rollout.md "Dashboard and control API"; ADR 0107.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const handler = createHandler(options);
  const server = createServer((req, res) => void handler(req, res));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const shown = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
