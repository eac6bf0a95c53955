/**
 * The report as text for people: aligned tables of points and plugins, each failing plugin's last exit
 * reason on one line, load errors with their paths, and the start count and time.
 */
import { inspect } from 'node:util';
import type { Report } from './report.js';

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

export function renderReport(report: Report, { color }: RenderOptions): string {
  const bold = paint(color, 1);
  const red = paint(color, 31);
  const green = paint(color, 32);
  const yellow = paint(color, 33);
  const dim = paint(color, 2);
  const { status, plugins, points } = report;
  const out: string[] = [];
  const started = status.startTime === null ? 'not started' : `last start ${status.startTime.toISOString()}`;
  out.push(`${bold('extpoint report')}  start count ${status.startCount}, ${started}`);

  out.push('', bold(`points (${points.length})`));
  if (points.length === 0) out.push(dim('  none'));
  else {
    const rows = points.map((p) => [p.fn, p.module, p.node, p.enabled ? 'enable' : 'disable', String(p.ok), String(p.exit)]);
    const lines = table(['fn', 'module', 'node', 'flag', 'ok', 'exit'], rows, new Set([4, 5]));
    out.push('  ' + dim(lines[0]!));
    lines.slice(1).forEach((l, i) => out.push('  ' + (points[i]!.enabled ? l : yellow(l))));
  }

  out.push('', bold(`plugins (${plugins.length})`));
  if (plugins.length === 0) out.push(dim('  none'));
  else {
    const rows = plugins.map((p) => [
      p.fn,
      p.module,
      p.node,
      p.enabled ? (p.heldBy === null ? 'enable' : `held by ${p.heldBy}`) : 'disable',
      String(p.ok),
      String(p.exit),
      p.profile === undefined
        ? ''
        : `${p.profile.count} calls, avg ${(p.profile.totalMs / Math.max(1, p.profile.count)).toFixed(3)} ms, max ${p.profile.maxMs.toFixed(3)} ms`,
    ]);
    const hasProfile = plugins.some((p) => p.profile !== undefined);
    const header = ['fn', 'module', 'node', 'flag', 'ok', 'exit', ...(hasProfile ? ['profile'] : [])];
    const lines = table(header, rows.map((r) => r.slice(0, header.length)), new Set([4, 5]));
    out.push('  ' + dim(lines[0]!));
    lines.slice(1).forEach((l, i) => {
      const p = plugins[i]!;
      out.push('  ' + (!p.enabled || p.heldBy !== null ? yellow(l) : p.exit > 0 ? red(l) : green(l)));
    });
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
