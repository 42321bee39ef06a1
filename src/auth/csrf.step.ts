import type { PipelineStep } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { REFRESH_COOKIE, SESSION_MODE_HEADER } from './cookie-session.js';
import { decideCsrf, needsCsrfCheck } from './csrf.core.js';

/**
 * The pipeline step that refuses a forged cookie-session request with 403 `csrf_rejected`
 * (csrf.core.ts, ADR 0014). It runs in `onRequest`, before any body is parsed, so a forged form
 * post is refused the same way whatever its content type. Bearer and API-key requests carry no
 * cookie a browser adds by itself and are never checked.
 */
export function createCsrfStep(deps: { allowedOrigins: readonly string[] }): PipelineStep {
  const allowed = new Set(deps.allowedOrigins);
  return (request) => {
    const hasCookie = request.cookies[REFRESH_COOKIE] !== undefined;
    const asksCookie = request.headers[SESSION_MODE_HEADER] === 'cookie';
    if (!needsCsrfCheck(request.method, hasCookie, asksCookie)) return;
    const decision = decideCsrf(request.headers, allowed);
    if (!decision.allowed) {
      throw new AppError('csrf_rejected', 'Cross-site request refused: this origin may not use the session cookie', { reason: decision.reason });
    }
  };
}
