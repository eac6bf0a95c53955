/**
 * The report as text for people, answering at a glance: which points exist and which plugins serve each,
 * enabled or not, ok and exit counts, each failing plugin's last exit reason on one line with its time,
 * load errors with their paths, and the start count and time.
 */
import { inspect } from 'node:util';
import type { ReportData, PluginRow, PointRow } from './report-rows.js';
import { parseExportName, extensionName } from '../core/naming.js';

export interface RenderOptions {
  /** ANSI colour: the caller decides (a TTY without NO_COLOR). */
  color: boolean;
}

const paint = (on: boolean, code: number) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** One line, at most `max` characters, for any thrown value. */
export function oneLine(value: unknown, max = 160): string {
  let text: string;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    text = `${value.name}${code !== undefined ? ` [${String(code)}]` : ''}: ${value.message}`;
  } else if (typeof value === 'string') {
    text = value;
  } else {
    text = inspect(value, { depth: 2, breakLength: Infinity });
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The point a plugin row serves, as its `_Extension` name; null when the name does not parse. */
function servedPoint(pluginFn: string): string | null {
  const parsed = parseExportName(pluginFn);
  return parsed?.ok === true ? extensionName(parsed.name.module, parsed.name.point) : null;
}

function profileText(p: PluginRow): string {
  if (p.profile === undefined) return '';
  const avg = p.profile.totalMs / Math.max(1, p.profile.count);
  return `${p.profile.count} calls, avg ${avg.toFixed(3)} ms, max ${p.profile.maxMs.toFixed(3)} ms`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Renders the report: a summary line, then one table of points, each followed by the plugins that serve
 * it (indented), then the last exit of each failing plugin, the load errors and the last terminate.
 */
export function renderReport(report: ReportData, { color }: RenderOptions): string {
  const bold = paint(color, 1);
  const red = paint(color, 31);
  const green = paint(color, 32);
  const yellow = paint(color, 33);
  const dim = paint(color, 2);
  const { status, plugins, points } = report;
  const out: string[] = [];
  const started = status.startTime === null ? 'not started' : `last start ${status.startTime.toISOString()}`;
  out.push(`${bold('extpoint report')}  start count ${status.startCount}, ${started}`);

  const failing = plugins.filter((p) => p.exit > 0).length;
  const off = plugins.filter((p) => !p.enabled || p.heldBy !== null).length + points.filter((p) => !p.enabled).length;
  const summary = [
    plural(points.length, 'point'),
    plural(plugins.length, 'plugin'),
    failing > 0 ? red(`${failing} failing`) : `${failing} failing`,
    off > 0 ? yellow(`${off} disabled or held`) : `${off} disabled or held`,
    status.loadErrors.length > 0 ? red(plural(status.loadErrors.length, 'load error')) : '0 load errors',
  ];
  out.push(summary.join(', '));

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
        rows.push([fn, group.module, node, 'not declared', '', '', '']);
        paints.push(dim);
      } else {
        rows.push([p.fn, p.module, p.node, p.enabled ? 'enable' : 'disable', String(p.ok), String(p.exit), '']);
        paints.push(p.enabled ? bold : yellow);
      }
      if (group.plugins.length === 0) {
        rows.push(['  (no plugins)', '', '', '', '', '', '']);
        paints.push(dim);
      }
      for (const q of group.plugins) {
        const flag = !q.enabled ? 'disable' : q.heldBy !== null ? `held by ${q.heldBy}` : 'enable';
        rows.push([`  ${q.fn}`, q.module, q.node, flag, String(q.ok), String(q.exit), profileText(q)]);
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
      out.push(`  ${red(`${e.module} ${e.fn}`)} #${e.n} at ${e.at.toISOString()}: ${oneLine(e.reason)}`);
    }
  }

  if (status.loadErrors.length > 0) {
    out.push('', bold(`load errors (${status.loadErrors.length})`));
    for (const e of status.loadErrors) {
      const where = [e.file, e.module && `module ${e.module}`, e.export && `export ${e.export}`].filter(Boolean).join(', ');
      out.push(`  ${red(where || 'unknown')} at ${e.at.toISOString()}: ${oneLine(e.message, 400)}`);
    }
  }

  if (status.terminateReasons.length > 0) {
    const t = status.terminateReasons[status.terminateReasons.length - 1]!;
    out.push('', `${bold('last terminate')} #${t.n} at ${t.at.toISOString()}: ${oneLine(t.reason)}`);
  }
  return out.join('\n');
}
