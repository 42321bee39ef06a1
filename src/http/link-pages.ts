import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import { DOCUMENT_HEADERS } from './response-headers.js';

type PublicAccess = NonNullable<FastifyContextConfig['access']>;

/**
 * The pages every mailed link points at (`PUBLIC_URL` + path): password reset, email
 * verification, invitation acceptance, guest confirmation and manage links. Each is a static
 * page; the token stays in the URL fragment, which browsers never send to a server, and the
 * page's script (same origin, no inline code, so a strict CSP holds) posts it to the API in a
 * JSON body (ASVS 3.1.1). A deployment with its own front end sets the *_URL settings instead.
 */
const PAGES = [
  {
    path: '/reset-password',
    operationId: 'showResetPasswordPage',
    title: 'Choose a new password',
    body: `<form data-flow="reset"><label>New password <input type="password" name="newPassword" autocomplete="new-password" minlength="8" maxlength="128" required></label><button>Save</button></form>`,
  },
  { path: '/verify-email', operationId: 'showVerifyEmailPage', title: 'Verify your email address', body: `<form data-flow="verify"><button>Verify</button></form>` },
  {
    path: '/invitations/accept',
    operationId: 'showAcceptInvitationPage',
    title: 'Accept an invitation',
    body: `<form data-flow="invitation"><label>Email <input type="email" name="email" autocomplete="username" required></label><label>Password <input type="password" name="password" autocomplete="current-password" required></label><button>Sign in and accept</button></form>`,
  },
  { path: '/booking/confirm', operationId: 'showConfirmBookingPage', title: 'Confirm your booking', body: `<form data-flow="confirm"><button>Confirm my booking</button></form>` },
  {
    path: '/booking/manage',
    operationId: 'showManageBookingPage',
    title: 'Your booking',
    body: `<div data-flow="manage"></div><form data-flow="cancel"><button>Cancel this booking</button></form><form data-flow="reschedule"><label>New start (e.g. 2026-03-24T10:00:00Z) <input name="start" required maxlength="40"></label><button>Move my booking</button></form>`,
  },
] as const;

const SCRIPT_PATH = '/pages/link-pages.js';

/**
 * The pages' own CSP: the API-wide `default-src 'none'` would block their same-origin script and
 * its fetch to the API, so a mailed link did nothing in a browser. Still no inline code, no
 * framing, no other origin (ASVS 4.0.3 14.4.3).
 */
export const LINK_PAGE_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Posts the fragment's token; shows the API's answer. textContent only: nothing is parsed as HTML.
const SCRIPT = `'use strict';
(function () {
  var token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  history.replaceState(null, '', location.pathname);
  var out = document.getElementById('out');
  function show(text) { out.textContent = text; }
  function post(path, body, headers) {
    return fetch(path, { method: 'POST', headers: Object.assign({ 'content-type': 'application/json' }, headers || {}), body: JSON.stringify(body) })
      .then(function (r) { return r.text().then(function (t) { var j = null; try { j = t ? JSON.parse(t) : null; } catch (e) {} return { ok: r.ok, status: r.status, body: j }; }); });
  }
  function explain(r) { return r.ok ? 'Done.' : ((r.body && r.body.message) || ('Error ' + r.status)); }
  function describe(v) { var r = v.reservation; return v.service.name + ' at ' + v.tenant.name + ': ' + r.start + ' (' + r.status + ')'; }
  if (!token) { show('This link is incomplete.'); return; }
  var manage = document.querySelector('[data-flow="manage"]');
  if (manage) post('/api/public/manage/reservation', { token: token }).then(function (r) { manage.textContent = r.ok ? describe(r.body) : explain(r); });
  document.querySelectorAll('form[data-flow]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var f = new FormData(form); var flow = form.getAttribute('data-flow'); var p;
      if (flow === 'reset') p = post('/api/auth/password/reset', { token: token, newPassword: f.get('newPassword') });
      else if (flow === 'verify') p = post('/api/auth/verify-email', { token: token });
      else if (flow === 'confirm') p = post('/api/public/manage/confirm', { token: token });
      else if (flow === 'cancel') p = post('/api/public/manage/cancel', { token: token });
      else if (flow === 'reschedule') p = post('/api/public/manage/reschedule', { token: token, start: f.get('start') });
      else if (flow === 'invitation') p = post('/api/auth/login', { email: f.get('email'), password: f.get('password') }).then(function (r) {
        if (!r.ok) return r;
        return post('/api/invitations/accept', { token: token }, { authorization: 'Bearer ' + r.body.accessToken });
      });
      p.then(function (r) { show(r.ok && r.body && r.body.reservation ? describe(r.body) : explain(r)); }, function () { show('Network error; try again.'); });
    });
  });
})();
`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>${title} · Boka</title></head><body><main><h1>${title}</h1>${body}<p id="out" role="status"></p></main><script src="${SCRIPT_PATH}"></script></body></html>`;
}

/** Registers the link pages and their one script. `publicAccess` is handed down (http sits below access). */
export function installLinkPages(app: FastifyInstance, opts: { publicAccess: PublicAccess }): void {
  for (const p of PAGES) {
    const html = page(p.title, p.body);
    app.get(p.path, {
      config: { access: opts.publicAccess },
      schema: {
        tags: ['pages'],
        operationId: p.operationId,
        summary: `HTML page: ${p.title.toLowerCase()}`,
        security: [],
        response: { 200: { description: 'the page; its script reads `#token=` from the fragment', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    }, async (_request, reply) => reply.headers(DOCUMENT_HEADERS).header('content-security-policy', LINK_PAGE_CSP).type('text/html; charset=utf-8').send(html));
  }
  app.get(SCRIPT_PATH, {
    config: { access: opts.publicAccess },
    schema: {
      tags: ['pages'],
      operationId: 'getLinkPagesScript',
      summary: 'Script of the link pages',
      security: [],
      response: { 200: { description: 'same-origin script (no inline code)', content: { 'text/javascript': { schema: { type: 'string' } } } } },
    },
  }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(SCRIPT));
}
