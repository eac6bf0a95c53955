/**
 * `report()`: the origin's three tables (status, plugins, points) as plain data, sorted by key, plus a
 * rendering as text tables for people (the REPL's `util.inspect`, the command line).
 */
import { inspect } from 'node:util';
import type { Registry } from '../registry/registry.js';
import type { PointState } from '../calls/point.js';
import { renderReport } from './report-text.js';
import type { ExitReasonRow, PluginRow, PointRow, ReportData, ReportStatus } from './report-rows.js';

export type { ExitReasonRow, PluginRow, PointRow, ReportStatus } from './report-rows.js';

/** What the framework knows, at one moment. Plain data; `util.inspect` shows it as three tables. */
export class Report implements ReportData {
  constructor(
    readonly status: ReportStatus,
    readonly plugins: PluginRow[],
    readonly points: PointRow[],
  ) {}

  /** The report as text tables (no colour). */
  toString(): string {
    return renderReport(this, { color: false });
  }

  [inspect.custom](_depth: number, options: { colors?: boolean }): string {
    return renderReport(this, { color: options.colors === true });
  }
}

function byKey(a: { module: string; fn: string; node: string }, b: { module: string; fn: string; node: string }): number {
  if (a.module !== b.module) return a.module < b.module ? -1 : 1;
  if (a.fn !== b.fn) return a.fn < b.fn ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** A point shows once declared or called; its plugins show while registered. */
function shown(p: PointState): boolean {
  return p.declaredBy !== null || p.called;
}

export function buildReport(
  registry: Registry,
  status: Omit<ReportStatus, 'exitReasons'>,
): Report {
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
  return new Report({ ...status, exitReasons }, plugins, points);
}
