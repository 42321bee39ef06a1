import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Command } from '../decision.types.js';
import { decideOperator, operator, type AccessPolicy } from '../../access/index.js';
import { buildErrorBody, ERROR_CATALOGUE, type ErrorCode } from '../../errors/index.js';

/** What the admin API reads and changes on the router (the router passes itself). */
export interface AdminRouterView {
  readState(): unknown;
  /** Saved to the state store (when there is one) before it applies. */
  saveWeight(greenWeight: number): Promise<unknown>;
  savePhase(phase: string | null): Promise<unknown>;
  readStats(windowMs: number): unknown;
  readonly metrics: { exposition(): Promise<string>; readonly contentType: string };
}

/** What a running rollout offers to `boka rollout status|pause|…` through the router's admin API. */
export interface RolloutControl {
  readStatus(): unknown;
  sendCommand(command: Command, by: string): Promise<{ accepted: boolean; message: string }>;
}

/** Phases are the controller's words (decision.types.ts); the router only checks their shape. */
const PHASE = /^[a-z][a-z0-9_]{0,31}$/;

/** A change is answered only once it is saved: a 200 means it survives a router restart. */
async function saved(res: ServerResponse, change: () => Promise<unknown>): Promise<void> {
  let state: unknown;
  try {
    state = await change();
  } catch (error) {
    process.stderr.write(`router: cannot save state: ${error instanceof Error ? error.message : String(error)}\n`);
    return sendError(res, 'service_unavailable', 'The router could not save its state file; nothing was changed');
  }
  sendJson(res, 200, state);
}

const COMMANDS = new Set<Command>(['pause', 'resume', 'promote', 'abort', 'rollback']);

/** The admin API's one policy: the router admin token when set, otherwise loopback callers only. */
export const ADMIN_ACCESS: AccessPolicy = operator('router_admin');


function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Errors in the one documented shape (docs/errors.md), like every Boka response. */
function sendError(res: ServerResponse, code: ErrorCode, message: string, details?: unknown): void {
  sendJson(res, ERROR_CATALOGUE[code].status, buildErrorBody(code, { message, details }));
}

/** The access layer's operator decision for this connection (src/access/operator.core.ts). */
export function isAdminAuthorized(req: Pick<IncomingMessage, 'headers' | 'socket'>, token: string | undefined): boolean {
  return decideOperator('router_admin', { ip: req.socket.remoteAddress, headers: req.headers }, { router_admin: token }).allowed;
}

async function readJsonBody(req: IncomingMessage, limit = 16_384): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : {};
}

/**
 * `/_router/*` and `/metrics` on the router's admin listener (never the traffic port): the state read-back,
 * weight writes, edge stats and the rollout's commands. With an admin token configured every
 * caller must present it; without one, loopback only.
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { router: AdminRouterView; adminToken: string | undefined; control: () => RolloutControl | null },
): Promise<void> {
  try {
    if (!isAdminAuthorized(req, ctx.adminToken)) return sendError(res, 'forbidden', 'The router admin API needs the admin token (or, without one, a loopback caller)');
    const url = new URL(req.url ?? '/', 'http://router.invalid');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /_router/state') return sendJson(res, 200, ctx.router.readState());
    if (route === 'GET /metrics') {
      const text = await ctx.router.metrics.exposition();
      res.writeHead(200, { 'content-type': ctx.router.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    if (route === 'PUT /_router/admin/weight') {
      const body = (await readJsonBody(req)) as { greenWeight?: unknown };
      if (typeof body.greenWeight !== 'number' || body.greenWeight < 0 || body.greenWeight > 100) {
        return sendError(res, 'validation_error', 'body must be {"greenWeight": 0..100}', [{ field: 'greenWeight', in: 'body', message: 'must be a number from 0 to 100' }]);
      }
      return await saved(res, () => ctx.router.saveWeight(body.greenWeight as number));
    }
    if (route === 'PUT /_router/admin/phase') {
      const body = (await readJsonBody(req)) as { phase?: unknown };
      if (body.phase !== null && (typeof body.phase !== 'string' || !PHASE.test(body.phase))) {
        return sendError(res, 'validation_error', 'body must be {"phase": "<a-z_, 1-32 characters>" | null}', [{ field: 'phase', in: 'body', message: 'must match ^[a-z][a-z0-9_]{0,31}$ or be null' }]);
      }
      return await saved(res, () => ctx.router.savePhase(body.phase as string | null));
    }
    if (route === 'GET /_router/admin/stats') {
      const windowMs = Number(url.searchParams.get('windowMs') ?? 60_000);
      if (!Number.isFinite(windowMs) || windowMs <= 0) return sendError(res, 'validation_error', 'windowMs must be > 0', [{ field: 'windowMs', in: 'querystring', message: 'must be > 0' }]);
      return sendJson(res, 200, ctx.router.readStats(windowMs));
    }
    const control = ctx.control();
    if (route === 'GET /_router/admin/rollout') {
      if (!control) return sendError(res, 'not_found', 'no rollout is attached to this router');
      return sendJson(res, 200, control.readStatus());
    }
    const match = /^POST \/_router\/admin\/rollout\/([a-z]+)$/.exec(route);
    if (match?.[1]) {
      if (!control) return sendError(res, 'not_found', 'no rollout is attached to this router');
      const command = match[1] as Command;
      if (!COMMANDS.has(command)) return sendError(res, 'not_found', `unknown command ${command}`);
      const body = (await readJsonBody(req)) as { by?: unknown };
      const by = typeof body.by === 'string' && body.by ? body.by.slice(0, 64) : 'operator';
      const result = await control.sendCommand(command, by);
      return sendJson(res, result.accepted ? 200 : 409, result);
    }
    return sendError(res, 'not_found', `no admin route ${route}`);
  } catch (error) {
    if (!res.headersSent) sendError(res, 'invalid_request', error instanceof Error ? error.message : String(error));
  }
}
