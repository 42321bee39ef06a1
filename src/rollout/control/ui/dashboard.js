// The rollout dashboard: polls the control API (GET /_rollout/status and /_rollout/history)
// and sends commands through the same POST /_rollout/commands/:command the CLI uses.
// No inline script anywhere (the page is served with CSP default-src 'self'); every value from
// the API is written with textContent, never as HTML.
'use strict';
(function () {
  const POLL_MS = 1000;
  const ROUTINE = new Set(['healthy', 'insufficient_data', 'hold']);
  const MAX_LOG_ROWS = 300;
  const COLORS = { blue: '#2563eb', green: '#16a34a' };

  // The token lives in this closure only: never in localStorage/sessionStorage or a cookie
  // (OWASP ASVS 4.0.3 V8.2.2), so a reload asks again. `#token=…` hands it over without it
  // reaching the server's logs (a fragment is never sent), and is removed from the URL at once.
  let token = null;
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    token = fragment.get('token');
    history.replaceState(null, '', location.pathname + location.search);
  }

  const $ = (id) => document.getElementById(id);
  let lastSeq = 0;
  let latestEvaluations = null;
  const series = { x: [], rate: { blue: [], green: [] }, errors: { blue: [], green: [] }, p95: { blue: [], green: [] } };
  const logEntries = [];
  let charts = null;
  let timer = null;
  let polling = false;

  async function api(path, init) {
    const headers = { accept: 'application/json' };
    if (init && init.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = 'Bearer ' + token;
    const res = await fetch(path, {
      method: (init && init.method) || 'GET',
      headers,
      body: init && init.body !== undefined ? JSON.stringify(init.body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
    });
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    return { status: res.status, body };
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return '-';
    if (typeof value !== 'number') return String(value);
    if (!Number.isFinite(value)) return String(value);
    return Number(value.toPrecision(digits || 4)).toString();
  }

  function metricText(metric, v) {
    if (!v || typeof v !== 'object' || typeof v.value !== 'number') return '-';
    const value = /rate/.test(metric) ? fmt(v.value * 100) + ' %' : /_ms$/.test(metric) ? fmt(v.value) + ' ms' : fmt(v.value);
    return typeof v.samples === 'number' ? value + ' (n=' + v.samples + ')' : value;
  }

  function thresholdText(e) {
    if (typeof e.threshold !== 'number') return '-';
    const t = /rate/.test(String(e.metric)) ? fmt(e.threshold * 100) + ' %' : /_ms$/.test(String(e.metric)) ? fmt(e.threshold) + ' ms' : fmt(e.threshold);
    return (e.op || '') + ' ' + t;
  }

  /** Every field the core reported beyond the fixed columns, nested ones as a.b = value. */
  function flatten(obj, prefix, out) {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix ? prefix + '.' + key : key;
      if (value && typeof value === 'object' && !Array.isArray(value)) flatten(value, name, out);
      else out.push(name + ' = ' + (typeof value === 'number' ? fmt(value, 5) : Array.isArray(value) ? value.join(', ') : String(value)));
    }
    return out;
  }

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function renderStatus(s) {
    $('rollout-id').textContent = s.rolloutId;
    $('phase').textContent = s.phase;
    $('phase').dataset.phase = s.phase;
    $('pause-reason').textContent = s.pauseReason ? '(' + s.pauseReason + ')' : '';
    $('step').textContent = Math.max(s.step + 1, 0) + ' / ' + s.steps;
    $('weight').textContent = s.weight + ' %';
    $('weight-bar').value = s.weight;
    $('outcome').textContent = s.outcome || '-';
    $('last-decision').textContent = s.lastDecision ? s.lastDecision.kind + ': ' + s.lastDecision.message : '-';
    const finished = Boolean(s.outcome);
    for (const b of document.querySelectorAll('[data-command]')) b.disabled = finished;
  }

  function renderRules() {
    const body = $('rules').tBodies[0];
    body.replaceChildren();
    if (!latestEvaluations) return;
    $('rules-at').textContent = 'at ' + new Date(latestEvaluations.at).toLocaleTimeString();
    for (const e of latestEvaluations.evaluations) {
      const row = document.createElement('tr');
      row.dataset.rule = String(e.rule);
      cell(row, String(e.rule));
      cell(row, String(e.status), 'status-' + String(e.status));
      cell(row, metricText(e.metric, e.green));
      cell(row, metricText(e.metric, e.blue));
      cell(row, thresholdText(e));
      const rest = {};
      for (const [k, v] of Object.entries(e)) if (!['rule', 'status', 'green', 'blue', 'op', 'threshold'].includes(k) && v !== null && v !== undefined) rest[k] = v;
      cell(row, flatten(rest, '', []).join(' · '), 'details');
      body.appendChild(row);
    }
  }

  function renderLog() {
    const showRoutine = $('show-routine').checked;
    const body = $('log').tBodies[0];
    body.replaceChildren();
    let rows = 0;
    for (let i = logEntries.length - 1; i >= 0 && rows < MAX_LOG_ROWS; i--) {
      const e = logEntries[i];
      if (!showRoutine && ROUTINE.has(e.kind)) continue;
      const row = document.createElement('tr');
      row.dataset.kind = e.kind;
      cell(row, new Date(e.at).toLocaleTimeString());
      cell(row, e.kind);
      cell(row, e.phase || '');
      cell(row, e.weight === undefined ? '' : e.weight + ' %');
      cell(row, e.errors && e.errors.length > 0 ? e.message + ' — ' + e.errors.join('; ') : e.message);
      body.appendChild(row);
      rows++;
    }
  }

  function makeChart(id, unit) {
    const el = $(id);
    const opts = {
      width: Math.max(320, el.clientWidth - 8),
      height: 200,
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'blue', stroke: COLORS.blue, width: 2, value: (_, v) => (v === null ? '-' : fmt(v) + ' ' + unit) },
        { label: 'green', stroke: COLORS.green, width: 2, value: (_, v) => (v === null ? '-' : fmt(v) + ' ' + unit) },
      ],
      axes: [{}, { size: 60 }],
    };
    return { el, plot: new uPlot(opts, [[], [], []], el) };
  }

  function renderCharts() {
    if (!charts) {
      if (typeof uPlot === 'undefined') return;
      charts = { rate: makeChart('chart-rate', 'req/s'), errors: makeChart('chart-errors', '%'), p95: makeChart('chart-p95', 'ms') };
    }
    for (const name of ['rate', 'errors', 'p95']) {
      const c = charts[name];
      c.plot.setData([series.x.slice(), series[name].blue.slice(), series[name].green.slice()]);
      // What the chart itself holds, for the browser test and for anyone inspecting the page.
      c.el.dataset.points = String(c.plot.data[0].length);
    }
  }

  function addHistory(page) {
    for (const p of page.evaluations) {
      series.x.push(p.at / 1000);
      for (const color of ['blue', 'green']) {
        series.rate[color].push(p[color].requestRate);
        series.errors[color].push(p[color].errorRate === null ? null : p[color].errorRate * 100);
        series.p95[color].push(p[color].p95Ms);
      }
    }
    for (const e of page.log) {
      logEntries.push(e);
      if (e.evaluations && e.evaluations.length > 0) latestEvaluations = { at: e.at, evaluations: e.evaluations };
    }
    if (logEntries.length > 5000) logEntries.splice(0, logEntries.length - 5000);
  }

  function showConnection(text, bad) {
    $('connection').textContent = text;
    $('connection').classList.toggle('bad', Boolean(bad));
  }

  function askForToken(message) {
    $('token-form').hidden = false;
    $('token-error').hidden = !message;
    $('token-error').textContent = message || '';
    showConnection('token needed', true);
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const status = await api('/_rollout/status');
      if (status.status === 401 || status.status === 403) {
        askForToken(token ? (status.body && status.body.message) || 'token refused' : '');
        return;
      }
      if (status.status !== 200) throw new Error((status.body && status.body.message) || 'HTTP ' + status.status);
      $('token-form').hidden = true;
      renderStatus(status.body);
      for (let pages = 0; pages < 20; pages++) {
        const history = await api('/_rollout/history?after=' + lastSeq);
        if (history.status !== 200) throw new Error((history.body && history.body.message) || 'HTTP ' + history.status);
        addHistory(history.body);
        lastSeq = history.body.lastSeq;
        if (!history.body.more) break;
      }
      renderCharts();
      renderRules();
      renderLog();
      showConnection('updated ' + new Date().toLocaleTimeString(), false);
    } catch (error) {
      showConnection('cannot reach the controller: ' + error.message, true);
    } finally {
      polling = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    if ($('token-form').hidden) timer = setTimeout(poll, POLL_MS);
  }

  async function sendCommand(command) {
    const force = command === 'rollback' && $('force').checked;
    if (command === 'abort' || command === 'rollback') {
      const what = command === 'abort' ? 'Abort the rollout and move all traffic to blue?' : 'Roll back: move all traffic to blue' + (force ? ' even if blue is unhealthy' : '') + '?';
      if (!window.confirm(what)) return;
    }
    const result = $('command-result');
    result.className = '';
    result.textContent = command + '…';
    try {
      const body = { by: $('by').value.trim() || 'dashboard' };
      if (force) body.force = true;
      const res = await api('/_rollout/commands/' + command, { method: 'POST', body });
      const message = (res.body && res.body.message) || 'HTTP ' + res.status;
      result.textContent = res.status === 200 ? command + ': ' + message : command + ' refused (' + res.status + '): ' + message;
      if (res.status !== 200) result.className = 'error';
      if (res.status === 401 || res.status === 403) askForToken(message);
    } catch (error) {
      result.textContent = command + ' failed: ' + error.message;
      result.className = 'error';
    }
    await poll();
  }

  function init() {
    for (const b of document.querySelectorAll('[data-command]')) b.addEventListener('click', () => void sendCommand(b.dataset.command));
    $('show-routine').addEventListener('change', renderLog);
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      token = $('token-input').value;
      $('token-input').value = '';
      $('token-form').hidden = true;
      void poll();
    });
    void poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
