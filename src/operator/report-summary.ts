/**
 * The summary screen of a report too long for one screen: at most 40 lines of at most 80 columns, whatever
 * the number of plugins, points, failures or load errors. Problems come first: modules with failing
 * plugins, then the failing plugins with their last exit, the disabled and held ones, the load errors, and
 * how to see more (filters, or every row).
 */
import type { ExitReasonRow, PluginRow } from './report-rows.js';
import type { FilteredReportData } from './report-filter.js';
import { parseExportName } from '../core/naming.js';
import { clip, escapeControls as esc, oneLine } from './safe-text.js';
import { painter, plural, table } from './terminal-text.js';

/** The most lines a summary takes (and the longest full table shown as it is). */
export const SCREEN_LINES = 40;
/** The widest line of a summary. */
const WIDTH = 80;
/** Rows shown per section before `… N more`. */
const MODULES_SHOWN = 7;
const FAILING_SHOWN = 5;
const OFF_SHOWN = 3;
const LOAD_ERRORS_SHOWN = 3;
/** The widest a module or export name gets in a summary line. */
const NAME_WIDTH = 28;

interface ModuleLine {
  module: string;
  points: Set<string>;
  plugins: number;
  failing: number;
  off: number;
  ok: number;
  exit: number;
}

const HINTS = {
  api: [
    "more: report({ module: 'M' }), report({ point: 'M/P' }),",
    'report({ failing: true }); every row: report({ all: true })',
  ],
  cli: ['more: --module M, --point M/P, --failing; every row: --all'],
};
const FAILING_HINT = { api: 'report({ failing: true })', cli: '--failing' };

function keyOf(row: { module: string; fn: string; node: string }): string {
  return `${row.module}\0${row.fn}\0${row.node}`;
}

/** Per module of points (the module a point belongs to): how many points and plugins, and their trouble. */
function byModule(report: FilteredReportData): ModuleLine[] {
  const lines = new Map<string, ModuleLine>();
  const line = (module: string) => {
    let entry = lines.get(module);
    if (entry === undefined) lines.set(module, (entry = { module, points: new Set(), plugins: 0, failing: 0, off: 0, ok: 0, exit: 0 }));
    return entry;
  };
  for (const p of report.points) {
    const entry = line(p.module);
    entry.points.add(`${p.fn}\0${p.node}`);
    if (!p.enabled) entry.off++;
  }
  for (const q of report.plugins) {
    const parsed = parseExportName(q.fn);
    const module = parsed?.ok === true ? parsed.name.module : q.module;
    const entry = line(module);
    if (parsed?.ok === true) entry.points.add(`${module}_${parsed.name.point}_Extension\0${q.node}`);
    entry.plugins++;
    if (q.exit > 0) entry.failing++;
    if (!q.enabled || q.heldBy !== null) entry.off++;
    entry.ok += q.ok;
    entry.exit += q.exit;
  }
  return [...lines.values()].sort(
    (a, b) => b.failing - a.failing || b.exit - a.exit || b.off - a.off || (a.module < b.module ? -1 : a.module > b.module ? 1 : 0),
  );
}

/** The summary's lines, after `headLines` (the title and counts). */
export function renderSummary(
  report: FilteredReportData,
  options: { color: boolean; hints: 'api' | 'cli'; headLines: string[]; fullLines: number },
): string[] {
  const { color, hints } = options;
  const bold = painter(color, 'bold');
  const red = painter(color, 'red');
  const yellow = painter(color, 'yellow');
  const dim = painter(color, 'dim');
  const fit = (text: string) => clip(text, WIDTH);
  const { status, plugins, points } = report;
  const out = [...options.headLines];
  const more = (n: number, what: string, how = '') => dim(fit(`  … ${n} more ${what}${how === '' ? '' : `: ${how}`}`));
  /** A name in a summary line: escaped, and short enough to leave room for what follows it. */
  const name = (text: string) => clip(esc(text), NAME_WIDTH);

  const modules = byModule(report);
  out.push('', bold(fit(`points by module (a summary: every row takes ${options.fullLines} lines)`)));
  const rows = modules
    .slice(0, MODULES_SHOWN)
    .map((m) => [name(m.module), String(m.points.size), String(m.plugins), String(m.failing), String(m.off), String(m.ok), String(m.exit)]);
  const lines = table(['module', 'points', 'plugins', 'failing', 'off', 'ok', 'exit'], rows, new Set([1, 2, 3, 4, 5, 6]));
  out.push(dim(fit(`  ${lines[0]!}`)));
  lines.slice(1).forEach((l, i) => {
    const m = modules[i]!;
    out.push((m.failing > 0 ? red : m.off > 0 ? yellow : (t: string) => t)(fit(`  ${l}`)));
  });
  if (modules.length > MODULES_SHOWN) out.push(more(modules.length - MODULES_SHOWN, modules.length - MODULES_SHOWN === 1 ? 'module' : 'modules'));

  const failing = plugins.filter((p) => p.exit > 0).sort((a, b) => b.exit - a.exit || (keyOf(a) < keyOf(b) ? -1 : 1));
  if (failing.length > 0) {
    const last = new Map<string, ExitReasonRow>();
    for (const e of status.exitReasons) last.set(keyOf(e), e);
    out.push('', bold(`failing plugins (${failing.length}), most exits first, each with its last exit`));
    for (const p of failing.slice(0, FAILING_SHOWN)) {
      const reason = last.get(keyOf(p));
      const why = reason === undefined ? '' : `: ${oneLine(reason.reason, WIDTH)}`;
      out.push(red(fit(`  ${name(p.module)} ${name(p.fn)} (${plural(p.exit, 'exit')})${why}`)));
    }
    if (failing.length > FAILING_SHOWN) out.push(more(failing.length - FAILING_SHOWN, 'failing', FAILING_HINT[hints]));
  }

  const off: string[] = [
    ...points.filter((p) => !p.enabled).map((p) => `  point ${name(p.fn)}  disabled`),
    ...plugins
      .filter((p: PluginRow) => !p.enabled || p.heldBy !== null)
      .map((p) => `  ${name(p.module)} ${name(p.fn)}  ${!p.enabled ? 'disabled' : `held by ${name(p.heldBy!)}`}`),
  ];
  if (off.length > 0) {
    out.push('', bold(`disabled or held (${off.length})`));
    for (const line of off.slice(0, OFF_SHOWN)) out.push(yellow(fit(line)));
    if (off.length > OFF_SHOWN) out.push(more(off.length - OFF_SHOWN, 'disabled or held'));
  }

  if (status.loadErrors.length > 0) {
    out.push('', bold(`load errors (${status.loadErrors.length})`));
    for (const e of status.loadErrors.slice(0, LOAD_ERRORS_SHOWN)) {
      const where = e.file ?? (e.module !== undefined ? `module ${e.module}` : 'unknown');
      // A loader's message often starts with the file's path: say it once.
      const message = e.file !== undefined && e.message.startsWith(e.file) ? e.message.slice(e.file.length).replace(/^[:\s]+/, '') : e.message;
      out.push(red(fit(`  ${clip(esc(where), 2 * NAME_WIDTH)}: ${oneLine(message, WIDTH)}`)));
    }
    if (status.loadErrors.length > LOAD_ERRORS_SHOWN) {
      out.push(more(status.loadErrors.length - LOAD_ERRORS_SHOWN, 'load errors', FAILING_HINT[hints]));
    }
  }

  if (status.terminateReasons.length > 0) {
    const t = status.terminateReasons[status.terminateReasons.length - 1]!;
    out.push('', fit(`last terminate #${t.n} at ${t.at.toISOString()}: ${oneLine(t.reason, WIDTH)}`));
  }

  // Flags kept for plugins or points not registered now, where the report lists them: counted here.
  const pending = (status as { pendingFlags?: unknown }).pendingFlags;
  if (Array.isArray(pending) && pending.length > 0) {
    out.push('', yellow(fit(`pending flags (${pending.length}): kept for plugins or points not registered now`)));
  }

  out.push('', ...HINTS[hints].map((h) => dim(h)));
  return out;
}
