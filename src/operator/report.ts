/**
 * `report()`: the origin's three tables (status, plugins, points) as plain data, sorted by key, narrowed by
 * filters when asked, plus a rendering as text tables for people (the REPL's `util.inspect`, the command
 * line) and as JSON-safe data (`JSON.stringify`, `--json`, the panel).
 */
import { inspect } from 'node:util';
import type { Registry } from '../registry/registry.js';
import type { PointState } from '../calls/point.js';
import { renderReport } from './report-text.js';
import { jsonReport, type JsonReport } from './report-json.js';
import { checkReportOptions, filterTables, type ReportFilter } from './report-filter.js';
import type { ExitReasonRow, PluginRow, PointRow, ReportData, ReportStatus } from './report-rows.js';

export type { ExitReasonRow, PluginRow, PointRow, ReportStatus } from './report-rows.js';

/** How `report.text()` renders. */
export interface ReportTextOptions {
  /** ANSI colour (default false). Decide it for a stream with its `hasColors()`, as the CLI does. */
  color?: boolean;
  /** How a summary's hints name the filters: as `report()` calls (default) or as the CLI's options. */
  hints?: 'api' | 'cli';
}

/** How a report was made: its filter and text options, and the sizes before filtering. */
interface View {
  filter: ReportFilter | null;
  all: boolean;
  totals: { plugins: number; points: number };
}

/**
 * What the framework knows, at one moment. Plain data; `util.inspect` and `String()` show it as tables (a
 * summary when it is longer than a screen), `JSON.stringify` as JSON-safe data. None of them ever
 * throws, whatever a plugin threw.
 */
export class Report implements ReportData {
  /** The filter the report was made with; absent when it holds every row. */
  declare readonly filter?: ReportFilter;
  readonly #view: View;

  constructor(
    readonly status: ReportStatus,
    readonly plugins: PluginRow[],
    readonly points: PointRow[],
    view?: View,
  ) {
    this.#view = view ?? { filter: null, all: false, totals: { plugins: plugins.length, points: points.length } };
    if (this.#view.filter !== null) (this as { filter?: ReportFilter }).filter = this.#view.filter;
  }

  /** The report as text tables; control characters in names and reasons come out escaped. */
  text(options: ReportTextOptions = {}): string {
    return renderReport(this, { color: options.color === true, hints: options.hints, all: this.#view.all, totals: this.#view.totals });
  }

  /** The report as text tables (no colour). */
  toString(): string {
    return this.text();
  }

  /** The report as JSON-safe data: what `JSON.stringify(report)` writes. See `jsonReport`. */
  toJSON(): JsonReport {
    return jsonReport(this);
  }

  [inspect.custom](_depth: number, options: { colors?: boolean }): string {
    return this.text({ color: options.colors === true });
  }
}

/** The report's row order: module, export name, node, in plain code-unit order. */
export function byKey(a: { module: string; fn: string; node: string }, b: { module: string; fn: string; node: string }): number {
  if (a.module !== b.module) return a.module < b.module ? -1 : 1;
  if (a.fn !== b.fn) return a.fn < b.fn ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** A point shows once declared or called; its plugins show while registered. */
function shown(p: PointState): boolean {
  return p.declaredBy !== null || p.called;
}

/**
 * The report of `registry`, narrowed by `options` (see `ReportOptions`).
 *
 * @throws TypeError when `options` holds an unknown key or a filter of the wrong shape.
 */
export function buildReport(registry: Registry, status: Omit<ReportStatus, 'exitReasons'>, options?: unknown): Report {
  const { filter, all } = checkReportOptions(options);
  const plugins: PluginRow[] = [];
  const points: PointRow[] = [];
  const exitReasons: ExitReasonRow[] = [];
  for (const p of registry.allPoints()) {
    p.settleTallies();
    if (shown(p)) {
      const { ok, exit } = p.totals();
      points.push({ fn: p.fn, module: p.module, node: p.node, enabled: p.enabled, ok, exit });
    }
    for (const slot of p.slots.values()) {
      const { fn, module, node } = slot.info;
      if (slot.exits !== null) {
        for (const e of slot.exits.toArray()) exitReasons.push({ fn, module, node, n: e.n, reason: e.reason, at: e.at });
      }
      if (slot.impl === null) continue;
      const row: PluginRow = { fn, module, node, enabled: slot.enabled, ok: slot.ok, exit: slot.exit, heldBy: slot.heldBy };
      if (slot.profile !== null) row.profile = { ...slot.profile };
      plugins.push(row);
    }
  }
  plugins.sort(byKey);
  points.sort(byKey);
  exitReasons.sort((a, b) => byKey(a, b) || a.n - b.n);
  const totals = { plugins: plugins.length, points: points.length };
  const tables = { status: { ...status, exitReasons }, plugins, points };
  const kept = filter === null ? tables : filterTables(tables, filter);
  return new Report(kept.status, kept.plugins, kept.points, { filter, all, totals });
}
