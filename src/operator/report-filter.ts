/**
 * Report filters: `report({ failing, point, module, node })` keeps only the rows an operator asked about.
 * Every given filter must match. `all` asks the text report for every row even when it is longer than
 * a screen.
 */
import { parseExportName } from '../core/naming.js';
import type { ExitReasonRow, PluginRow, PointRow, ReportData, ReportStatus } from './report-rows.js';
import type { LoadError } from '../core/history.js';

/** Which rows a report keeps; every filter given must match. */
export interface ReportFilter {
  /** Only plugins that exited at least once, the points with exits, their exit reasons and the load errors. */
  failing?: boolean;
  /** One point and the plugins serving it, as `'module/point'` (or the point alone, with `module`). */
  point?: string;
  /** What concerns a module: its points with every plugin serving them, and its own plugins wherever they plug in. */
  module?: string;
  /** Only the rows of this node. */
  node?: string;
}

/** A report's data, with the filter it was made with, if any. */
export type FilteredReportData = ReportData & { readonly filter?: ReportFilter };

/** What `report()` takes: filters, and how much the text shows. */
export interface ReportOptions extends ReportFilter {
  /** The text report shows every row, even when they fill more than a screen (it shows a summary then). */
  all?: boolean;
}

const KEYS = ['failing', 'point', 'module', 'node', 'all'] as const;

/** The valid key closest to a mistyped one (by edit distance), or null when none is close. */
function nearest(key: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of KEYS) {
    const d = distance(key.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return typeof value === 'function' ? 'a function' : String(value);
}

/** A filter with `point` made whole (`'module/point'`), or null for none. */
export interface CheckedOptions {
  filter: ReportFilter | null;
  all: boolean;
}

/**
 * Checks `report()`'s argument.
 *
 * @throws TypeError naming an unknown key (and the key meant), or a filter of the wrong type or shape.
 */
export function checkReportOptions(options: unknown): CheckedOptions {
  if (options === undefined) return { filter: null, all: false };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`extpoint: report() takes an object of filters such as { module: 'billing' } or { failing: true }, not ${shown(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if ((KEYS as readonly string[]).includes(key)) continue;
    const meant = nearest(key);
    throw new TypeError(
      `extpoint: report() has no filter "${key}"${meant === null ? '' : `; did you mean "${meant}"?`} The filters are failing, point, module, node, and all for the full text.`,
    );
  }
  for (const key of ['failing', 'all'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'boolean') {
      throw new TypeError(`extpoint: report filter ${key} must be true or false, not ${shown(given[key])}`);
    }
  }
  for (const key of ['module', 'node', 'point'] as const) {
    const value = given[key];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      const what = key === 'point' ? 'a point as "module/point"' : key === 'module' ? 'a module name' : 'a node name';
      throw new TypeError(`extpoint: report filter ${key} must be ${what} (a non-empty string), not ${shown(value)}`);
    }
  }
  const filter: ReportFilter = {};
  if (given.failing === true) filter.failing = true;
  if (typeof given.module === 'string') filter.module = given.module;
  if (typeof given.node === 'string') filter.node = given.node;
  if (typeof given.point === 'string') {
    const point = given.point;
    const slash = point.indexOf('/');
    if (slash < 0) {
      if (filter.module === undefined) {
        throw new TypeError(
          `extpoint: report filter point must name its module, as "module/point" such as "billing/${point}", not ${shown(point)} (or give module too)`,
        );
      }
      filter.point = `${filter.module}/${point}`;
    } else if (slash === 0 || slash === point.length - 1 || point.indexOf('/', slash + 1) >= 0) {
      throw new TypeError(`extpoint: report filter point must be "module/point", such as "billing/checkout", not ${shown(point)}`);
    } else filter.point = point;
  }
  return { filter: Object.keys(filter).length === 0 ? null : filter, all: given.all === true };
}

/** The module and point an export name (plugin or extension) belongs to, or null when it does not parse. */
function pointOf(fn: string): { module: string; point: string } | null {
  const parsed = parseExportName(fn);
  return parsed?.ok === true ? { module: parsed.name.module, point: parsed.name.point } : null;
}

/** Rows to filter: the report's tables before filtering. */
export interface Tables {
  status: ReportStatus;
  plugins: PluginRow[];
  points: PointRow[];
}

/** The rows of `tables` that `filter` keeps. */
export function filterTables(tables: Tables, filter: ReportFilter): Tables {
  const [pointModule, pointName] = filter.point === undefined ? [undefined, undefined] : filter.point.split('/');
  const concerns = (own: string, fn: string): boolean => {
    const at = pointOf(fn);
    if (filter.point !== undefined && (at === null || at.module !== pointModule || at.point !== pointName)) return false;
    if (filter.module !== undefined && own !== filter.module && at?.module !== filter.module) return false;
    return true;
  };
  const keepsPlugin = (row: { fn: string; module: string; node: string }, exits: number) =>
    (filter.node === undefined || row.node === filter.node) && (filter.failing !== true || exits > 0) && concerns(row.module, row.fn);

  const plugins = tables.plugins.filter((row) => keepsPlugin(row, row.exit));
  const served = new Set<string>();
  for (const row of plugins) {
    const at = pointOf(row.fn);
    if (at !== null) served.add(`${at.module}/${at.point}\0${row.node}`);
  }
  const points = tables.points.filter((row) => {
    if (filter.node !== undefined && row.node !== filter.node) return false;
    if (filter.failing === true && row.exit === 0) return false;
    const at = pointOf(row.fn);
    const key = at === null ? null : `${at.module}/${at.point}`;
    if (filter.point !== undefined && key !== filter.point) return false;
    if (filter.module !== undefined && row.module !== filter.module && !(key !== null && served.has(`${key}\0${row.node}`))) return false;
    return true;
  });
  const exitReasons = tables.status.exitReasons.filter((row: ExitReasonRow) => keepsPlugin(row, 1));
  const loadErrors = tables.status.loadErrors.filter((e: LoadError) => {
    if (filter.module === undefined && filter.point === undefined) return true;
    const at = e.export === undefined ? null : pointOf(e.export);
    if (filter.point !== undefined) return at !== null && `${at.module}/${at.point}` === filter.point && (filter.module === undefined || e.module === filter.module || at.module === filter.module);
    return e.module === filter.module || at?.module === filter.module;
  });
  return { status: { ...tables.status, exitReasons, loadErrors }, plugins, points };
}

/** The filter in words: `module billing, failing`. */
export function describeFilter(filter: ReportFilter): string {
  const parts: string[] = [];
  if (filter.point !== undefined) parts.push(`point ${filter.point}`);
  if (filter.module !== undefined) parts.push(`module ${filter.module}`);
  if (filter.node !== undefined) parts.push(`node ${filter.node}`);
  if (filter.failing === true) parts.push('failing');
  return parts.join(', ');
}
