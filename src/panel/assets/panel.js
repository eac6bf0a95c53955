// The extpoint web panel: renders the JSON report sent over Server-Sent Events and posts the buttons'
// actions. Every text that comes from the host (names, reasons, stacks) is set with textContent, never
// parsed as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
let report = null;
let token = null;
/** The exit reasons whose stacks are open, kept across renders. */
const openExits = new Set();
/** Per point: its ok and exit totals sampled once a second while the page is open (the last two minutes). */
const samples = new Map();
const SAMPLES_KEPT = 120;
/** Per point: the sparkline drawn for it now. */
const sparks = new Map();
const SVG = 'http://www.w3.org/2000/svg';

const pointKey = (point) => `${point.module}\0${point.fn}\0${point.node}`;

/** Records each point's totals now and redraws the sparklines. */
function sample() {
  if (report === null) return;
  for (const point of report.points) {
    const key = pointKey(point);
    const list = samples.get(key) ?? [];
    list.push({ ok: point.ok, exit: point.exit });
    if (list.length > SAMPLES_KEPT) list.shift();
    samples.set(key, list);
  }
  for (const [key, svg] of sparks) drawSpark(svg, samples.get(key) ?? []);
}

/** Calls (green) and exits (red) per second over the samples, as two polylines across the whole width. */
function drawSpark(svg, list) {
  const width = 120;
  const height = 20;
  const deltas = list.slice(1).map((s, i) => ({ ok: Math.max(0, s.ok - list[i].ok), exit: Math.max(0, s.exit - list[i].exit) }));
  const top = Math.max(1, ...deltas.map((d) => d.ok + d.exit));
  const line = (pick) =>
    deltas.map((d, i) => `${((i * width) / Math.max(1, deltas.length - 1)).toFixed(1)},${(height - 1 - (pick(d) / top) * (height - 2)).toFixed(1)}`).join(' ');
  svg.replaceChildren();
  for (const [cls, pick] of [['spark-ok', (d) => d.ok], ['spark-exit', (d) => d.exit]]) {
    const poly = document.createElementNS(SVG, 'polyline');
    poly.setAttribute('class', cls);
    poly.setAttribute('points', line(pick));
    svg.append(poly);
  }
  const total = deltas.reduce((sum, d) => ({ ok: sum.ok + d.ok, exit: sum.exit + d.exit }), { ok: 0, exit: 0 });
  const title = document.createElementNS(SVG, 'title');
  title.textContent = `last ${deltas.length} s: ${total.ok} ok, ${total.exit} exits`;
  svg.append(title);
}

function spark(point) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 120 20');
  svg.setAttribute('width', '120');
  svg.setAttribute('height', '20');
  sparks.set(pointKey(point), svg);
  drawSpark(svg, samples.get(pointKey(point)) ?? []);
  return svg;
}

/** An element with a class and children (strings become text nodes). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

function text(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof value.message === 'string') {
    return `${typeof value.name === 'string' ? value.name + ': ' : ''}${value.message}`;
  }
  return JSON.stringify(value);
}

function stackOf(value) {
  return value !== null && typeof value === 'object' && typeof value.stack === 'string' ? value.stack : null;
}

function pointName(point) {
  return point.fn.slice(point.module.length + 1, -'_Extension'.length);
}

function uptime(startTime) {
  if (startTime === null) return 'not started';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(startTime)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `up ${h > 0 ? h + 'h ' : ''}${m > 0 || h > 0 ? m + 'm ' : ''}${s % 60}s`;
}

function empty(what) {
  return el('p', 'empty', `no ${what}`);
}

async function act(body) {
  const verdict = $('verdict');
  verdict.textContent = '…';
  try {
    const res = await fetch('/actions', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-extpoint-token': token ?? '' },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    const where = `${body.plugin ? body.plugin + ' on ' : ''}${body.module}.${body.point}`;
    verdict.textContent = answer.error !== undefined ? `${body.action} ${where}: ${answer.error}` : `${body.action} ${where}: ${answer.outcome}`;
    verdict.className = `verdict ${answer.error !== undefined || answer.outcome === 'unhealthy' ? 'bad' : 'good'}`;
  } catch (err) {
    verdict.textContent = `request failed: ${err.message}`;
    verdict.className = 'verdict bad';
  }
}

function toggle(enabled, onClick, label) {
  const button = el('button', enabled ? 'toggle on' : 'toggle off', enabled ? 'enabled' : 'disabled');
  button.type = 'button';
  button.title = `${enabled ? 'disable' : 'enable'} ${label}`;
  button.setAttribute('aria-label', button.title);
  button.addEventListener('click', onClick);
  return button;
}

function counts(row) {
  return el('span', 'counts', el('span', 'ok', `ok ${row.ok}`), ' ', el('span', row.exit > 0 ? 'exit bad' : 'exit', `exit ${row.exit}`));
}

function renderPoints(r, filter) {
  const box = $('points');
  box.replaceChildren();
  sparks.clear();
  let points = r.points.map((point) => {
    const prefix = point.fn.slice(0, -'_Extension'.length);
    const plugins = r.plugins.filter((p) => p.fn === `${prefix}_Plugin` && p.node === point.node);
    return { point, plugins };
  });
  if (filter !== '') {
    points = points.filter(({ point, plugins }) =>
      [point.module, pointName(point), point.fn, ...plugins.map((p) => p.module)].some((s) => s.toLowerCase().includes(filter)),
    );
  }
  if ($('failing-first').checked) points.sort((a, b) => b.point.exit - a.point.exit);
  if (points.length === 0) return box.append(empty(filter === '' ? 'points' : 'point matches the filter'));
  for (const { point, plugins } of points) {
    const name = pointName(point);
    const where = `${point.module}.${name}`;
    const health = el('button', 'health', 'health');
    health.type = 'button';
    health.addEventListener('click', () => act({ action: 'health', module: point.module, point: name }));
    const head = el(
      'div',
      'point-head',
      el('span', 'name', where),
      el('span', 'node', point.node),
      spark(point),
      counts(point),
      toggle(point.enabled, () => act({ action: point.enabled ? 'disablePoint' : 'enablePoint', module: point.module, point: name }), `point ${where}`),
      health,
    );
    const list = el('ul', 'plugins');
    for (const plugin of plugins) {
      const item = el(
        'li',
        plugin.enabled ? 'plugin' : 'plugin off',
        el('span', 'name', plugin.module),
        counts(plugin),
        plugin.heldBy !== null ? el('span', 'held', `held by ${plugin.heldBy}`) : '',
        toggle(
          plugin.enabled,
          () => act({ action: plugin.enabled ? 'disablePlugin' : 'enablePlugin', plugin: plugin.module, module: point.module, point: name }),
          `plugin ${plugin.module} on ${where}`,
        ),
      );
      item.dataset.plugin = plugin.module;
      list.append(item);
    }
    if (plugins.length === 0) list.append(el('li', 'empty', 'no plugins'));
    const card = el('article', point.enabled ? 'point' : 'point off', head, list);
    card.dataset.point = where;
    box.append(card);
  }
}

function renderExits(r, filter) {
  const box = $('exits');
  box.replaceChildren();
  const rows = r.status.exitReasons.filter((e) => filter === '' || `${e.module} ${e.fn}`.toLowerCase().includes(filter));
  if (rows.length === 0) return box.append(empty('exits'));
  for (const e of rows.slice(-50).reverse()) {
    const stack = stackOf(e.reason);
    const summary = el('summary', '', el('span', 'name', `${e.module} ${e.fn}`), ` #${e.n} `, el('time', '', e.at), ' ', el('span', 'reason', text(e.reason)));
    const details = el('details', 'exit', summary);
    const key = `${e.module}\0${e.fn}\0${e.node}\0${e.n}`;
    details.open = openExits.has(key);
    details.addEventListener('toggle', () => (details.open ? openExits.add(key) : openExits.delete(key)));
    if (stack !== null) details.append(el('pre', '', stack));
    box.append(details);
  }
}

function renderList(id, rows, what, line) {
  const box = $(id);
  box.replaceChildren();
  if (rows.length === 0) return box.append(empty(what));
  const list = el('ul', 'rows');
  for (const row of rows) list.append(el('li', '', ...line(row)));
  box.append(list);
}

function renderStatus() {
  if (report === null) return;
  const r = report;
  const s = r.status;
  const failing = r.points.filter((p) => p.exit > 0).length;
  $('status').textContent =
    `${s.startTime === null ? 'not started' : 'started'} · start count ${s.startCount} · ${uptime(s.startTime)} · ` +
    `${r.points.length} points · ${r.plugins.length} plugins · ${failing} failing · ${s.loadErrors.length} load errors`;
}

function render() {
  if (report === null) return;
  const r = report;
  const s = r.status;
  renderStatus();
  const filter = $('filter').value.trim().toLowerCase();
  // Where plugins run: shown once the host has a worker node (the report carries `nodes` then).
  $('nodes-section').hidden = !Array.isArray(r.nodes);
  if (Array.isArray(r.nodes)) {
    renderList('nodes', r.nodes, 'nodes', (n) => [
      el('span', 'name', `${n.node} (${n.kind})`),
      ` ${n.status} · ${n.plugins} plugins · ${n.calls} calls · ${n.restarts} restarts`,
      ...(n.lastReasons.length > 0 ? [' · last: ', el('span', 'reason', text(n.lastReasons[n.lastReasons.length - 1]))] : []),
    ]);
  }
  renderPoints(r, filter);
  renderExits(r, filter);
  renderList('load-errors', s.loadErrors, 'load errors', (e) => [
    el('time', '', e.at),
    ' ',
    el('span', 'name', [e.module, e.file, e.export].filter((x) => typeof x === 'string').join(' ')),
    ' ',
    el('span', 'reason', text(e.message)),
  ]);
  renderList('pending', s.pendingFlags, 'pending flags', (f) => [
    el('span', 'name', `${f.kind} ${f.module} ${f.fn}`),
    ` on ${f.node}: will be `,
    f.enabled ? 'enabled' : 'disabled',
  ]);
  const history = [
    ...s.terminateReasons.map((t) => ({ at: t.at, what: `terminate #${t.n}`, detail: text(t.reason) })),
    ...(s.operatorActions ?? []).map((a) => ({ at: a.at, what: `${a.source}: ${a.action} ${a.target}`, detail: a.outcome })),
  ].sort((a, b) => (a.at < b.at ? 1 : -1));
  renderList('history', history, 'history', (h) => [el('time', '', h.at), ' ', el('span', 'name', h.what), ' ', el('span', 'reason', h.detail)]);
}

async function main() {
  const res = await fetch('/session', { credentials: 'same-origin' });
  if (res.ok) token = (await res.json()).token;
  $('filter').addEventListener('input', render);
  $('failing-first').addEventListener('change', render);
  const events = new EventSource('/events');
  events.addEventListener('report', (event) => {
    const first = report === null;
    report = JSON.parse(event.data);
    if (first) sample();
    render();
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  });
  events.addEventListener('open', () => {
    $('live').textContent = '●';
    $('live').className = 'live on';
  });
  events.addEventListener('error', () => {
    $('live').textContent = '○';
    $('live').className = 'live';
  });
  setInterval(() => {
    renderStatus();
    sample();
  }, 1000);
}

main();
