/**
 * The report as text for people, answering at a glance: which points exist and which plugins serve each,
 * enabled or not, ok and exit counts, each failing plugin's last exit reason on one line with its time,
 * load errors with their paths, and the start count and time. A report too long for one screen is shown
 * as a summary (see report-summary.ts) unless it was filtered or every row was asked for. Every name and
 * message comes out with its control characters escaped.
 */
import type { PluginRow, PointRow } from './report-rows.js';
import { describeFilter, type FilteredReportData } from './report-filter.js';
import { parseExportName, extensionName } from '../core/naming.js';
import { escapeControls as esc, oneLine } from './safe-text.js';
import { painter, plural, table } from './terminal-text.js';
import { renderSummary, SCREEN_LINES } from './report-summary.js';

/** How to render a report as text. */
export interface RenderOptions {
  /** ANSI colour: the caller decides (see `colorsFor`). */
  color: boolean;
  /** Every row, even when they fill more than a screen; otherwise a long report is summarised. */
  all?: boolean;
  /** How hints name the filters: as `report()` calls (the default) or as the command line's options. */
  hints?: 'api' | 'cli';
  /** How many plugins and points the report had before it was filtered. */
  totals?: { plugins: number; points: number };
}

/** The point a plugin row serves, as its `_Extension` name; null when the name does not parse. */
function servedPoint(pluginFn: string): string | null {
  const parsed = parseExportName(pluginFn);
  return parsed?.ok === true ? extensionName(parsed.name.module, parsed.name.point) : null;
}

function profileText(p: PluginRow): string {
  if (p.profile === undefined) return '';
  const avg = p.profile.totalMs / Math.max(1, p.profile.count);
  const slow = p.profile.slow > 0 ? `, ${p.profile.slow} slow (past timeoutMs)` : '';
  return `${p.profile.count} calls, avg ${avg.toFixed(3)} ms, max ${p.profile.maxMs.toFixed(3)} ms${slow}`;
}

/** The first lines of every rendering: title with start count and time, then what needs attention. */
export function headLines(report: FilteredReportData, color: boolean, totals?: { plugins: number; points: number }): string[] {
  const bold = painter(color, 'bold');
  const red = painter(color, 'red');
  const yellow = painter(color, 'yellow');
  const { status, plugins, points } = report;
  const started = status.startTime === null ? 'not started' : `last start ${status.startTime.toISOString()}`;
  const lines = [`${bold('extpoint report')}  start count ${status.startCount}, ${started}`];
  const failing = plugins.filter((p) => p.exit > 0).length;
  const off = plugins.filter((p) => !p.enabled || p.heldBy !== null).length + points.filter((p) => !p.enabled).length;
  lines.push(
    [
      plural(points.length, 'point'),
      plural(plugins.length, 'plugin'),
      failing > 0 ? red(`${failing} failing`) : `${failing} failing`,
      off > 0 ? yellow(`${off} disabled or held`) : `${off} disabled or held`,
      status.loadErrors.length > 0 ? red(plural(status.loadErrors.length, 'load error')) : '0 load errors',
    ].join(', '),
  );
  if (report.filter !== undefined) {
    const counts =
      totals === undefined ? '' : `: ${plugins.length} of ${plural(totals.plugins, 'plugin')}, ${points.length} of ${plural(totals.points, 'point')} shown`;
    lines.push(`filtered by ${esc(describeFilter(report.filter))}${counts}`);
  }
  return lines;
}

/** Every row: one table of points, each followed by its plugins, then exits, load errors, last terminate. */
function renderFull(report: FilteredReportData, color: boolean, totals?: { plugins: number; points: number }): string[] {
  const bold = painter(color, 'bold');
  const red = painter(color, 'red');
  const green = painter(color, 'green');
  const yellow = painter(color, 'yellow');
  const dim = painter(color, 'dim');
  const { status, plugins, points } = report;
  const out = headLines(report, color, totals);

  // Each point, then the plugins serving it; plugins of a point that is neither declared nor called yet
  // get a heading of their own so that no plugin is hidden.
  const groups = new Map<string, { point: PointRow | null; module: string; plugins: PluginRow[] }>();
  for (const p of points) groups.set(`${p.fn}\0${p.node}`, { point: p, module: p.module, plugins: [] });
  for (const p of plugins) {
    const fn = servedPoint(p.fn) ?? p.fn;
    const key = `${fn}\0${p.node}`;
    let group = groups.get(key);
    if (group === undefined) {
      const owner = parseExportName(p.fn);
      group = { point: null, module: owner?.ok === true ? owner.name.module : '?', plugins: [] };
      groups.set(key, group);
    }
    group.plugins.push(p);
  }

  out.push('', bold('points, each with the plugins serving it'));
  if (groups.size === 0) out.push(dim('  none'));
  else {
    const hasProfile = plugins.some((p) => p.profile !== undefined);
    const rows: string[][] = [];
    const paints: ((text: string) => string)[] = [];
    const sorted = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, group] of sorted) {
      const [fn, node] = key.split('\0') as [string, string];
      const p = group.point;
      if (p === null) {
        rows.push([esc(fn), esc(group.module), esc(node), 'not declared', '', '', '']);
        paints.push(dim);
      } else {
        rows.push([esc(p.fn), esc(p.module), esc(p.node), p.enabled ? 'enable' : 'disable', String(p.ok), String(p.exit), '']);
        paints.push(p.enabled ? bold : yellow);
      }
      if (group.plugins.length === 0) {
        rows.push(['  (no plugins)', '', '', '', '', '', '']);
        paints.push(dim);
      }
      for (const q of group.plugins) {
        const flag = !q.enabled ? 'disable' : q.heldBy !== null ? `held by ${esc(q.heldBy)}` : 'enable';
        rows.push([`  ${esc(q.fn)}`, esc(q.module), esc(q.node), flag, String(q.ok), String(q.exit), profileText(q)]);
        paints.push(!q.enabled || q.heldBy !== null ? yellow : q.exit > 0 ? red : green);
      }
    }
    const header = ['point / plugin', 'module', 'node', 'flag', 'ok', 'exit', ...(hasProfile ? ['profile'] : [])];
    const lines = table(header, rows.map((r) => r.slice(0, header.length)), new Set([4, 5]));
    out.push('  ' + dim(lines[0]!));
    lines.slice(1).forEach((l, i) => out.push('  ' + paints[i]!(l)));
  }

  const last = new Map<string, (typeof status.exitReasons)[number]>();
  for (const e of status.exitReasons) last.set(`${e.module}\0${e.fn}\0${e.node}`, e);
  if (last.size > 0) {
    out.push('', bold('last exit of each failing plugin'));
    for (const e of last.values()) {
      out.push(`  ${red(`${esc(e.module)} ${esc(e.fn)}`)} #${e.n} at ${e.at.toISOString()}: ${oneLine(e.reason)}`);
    }
  }

  if (status.loadErrors.length > 0) {
    out.push('', bold(`load errors (${status.loadErrors.length})`));
    for (const e of status.loadErrors) {
      const where = [e.file, e.module && `module ${e.module}`, e.export && `export ${e.export}`].filter(Boolean).join(', ');
      out.push(`  ${red(esc(where) || 'unknown')} at ${e.at.toISOString()}: ${oneLine(e.message, 400)}`);
    }
  }

  if (status.pendingFlags.length > 0) {
    out.push('', bold(`pending flags (${status.pendingFlags.length})`));
    for (const f of status.pendingFlags) {
      const what = f.kind === 'plugin' ? 'its plugin is' : 'the point is';
      out.push(`  ${yellow(`${esc(f.module)} ${esc(f.fn)}`)} ${esc(f.node)}: ${f.enabled ? 'enable' : 'disable'}, kept: ${what} not registered now`);
    }
  }

  const nodes = report.nodes ?? [];
  if (nodes.some((n) => n.kind !== 'local')) {
    out.push('', bold(`nodes (${nodes.length})`));
    for (const n of nodes) {
      const paint = n.status === 'up' ? green : n.status === 'restarting' ? yellow : red;
      const since = n.startedAt === null ? '' : ` since ${n.startedAt.toISOString()}`;
      out.push(`  ${paint(`${esc(n.node)} ${n.kind} ${n.status}`)}${since}: ${n.plugins} plugins, ${n.calls} calls, ${n.restarts} restarts${n.dropped ? `, ${n.dropped} messages dropped` : ''}`);
      const last = n.lastReasons[n.lastReasons.length - 1];
      if (last !== undefined) out.push(`    last down: ${oneLine(last)}`);
    }
  }

  if (status.terminateReasons.length > 0) {
    const t = status.terminateReasons[status.terminateReasons.length - 1]!;
    out.push('', `${bold('last terminate')} #${t.n} at ${t.at.toISOString()}: ${oneLine(t.reason)}`);
  }
  return out;
}

/**
 * Renders the report: a summary line, then one table of points, each followed by the plugins that serve
 * it (indented), then the last exit of each failing plugin, the load errors and the last terminate. When
 * that is longer than a screen and the report was not filtered, nor `all` asked for, renders the summary
 * screen instead. Never throws.
 */
export function renderReport(report: FilteredReportData, options: RenderOptions): string {
  const { color, totals } = options;
  try {
    const full = renderFull(report, color, totals);
    if (report.filter !== undefined || options.all === true || full.length <= SCREEN_LINES) return full.join('\n');
    return renderSummary(report, { color, hints: options.hints ?? 'api', headLines: headLines(report, color, totals), fullLines: full.length }).join('\n');
  } catch (err) {
    // Only a bug of ours can land here (every value from a plugin goes through safe-text): say so briefly.
    return `extpoint report could not be rendered: ${oneLine(err)}`;
  }
}
