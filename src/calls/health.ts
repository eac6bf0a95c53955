/**
 * Health probes: a plugin module may export `health()`, returning `'ok'` or `{ status, reason? }`, sync or
 * async. A check runs the probes of the plugin modules serving the chosen points concurrently, each with a
 * timeout, and reports per module and per point. It reports only; it never stops calls.
 */
import type { PointState } from './point.js';
import { assertCallNames, describe } from '../core/naming.js';
import { errorText } from '../core/declarations.js';

/** What a health check reads of the registry: its points and each module's probe. */
export interface HealthSource {
  peek(module: string, point: string): PointState | undefined;
  allPoints(): Iterable<PointState>;
  readonly modules: ReadonlyMap<string, { readonly health: (() => unknown) | undefined }>;
}

export type HealthStatus = 'ok' | 'degraded' | 'error';

export interface HealthOptions {
  /** How long each probe may take, in milliseconds. Default 1,000. */
  timeoutMs?: number;
}

/** One plugin module's health. */
export interface ModuleHealth {
  module: string;
  status: HealthStatus;
  reason?: string;
  /** False when the module exports no probe (it is then counted as ok). */
  probe: boolean;
}

/** One point's health: healthy when every plugin module serving it is ok. */
export interface PointHealth {
  module: string;
  point: string;
  fn: string;
  healthy: boolean;
  /** The plugin modules serving it, in call order. */
  plugins: string[];
}

export interface HealthReport {
  /** True when every point checked is healthy. */
  healthy: boolean;
  points: PointHealth[];
  modules: ModuleHealth[];
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

function choosePoints(registry: HealthSource, module?: string, point?: string): PointState[] {
  if (module !== undefined && point !== undefined) {
    assertCallNames(module, point);
    const p = registry.peek(module, point);
    return p === undefined ? [] : [p];
  }
  if (point !== undefined) throw new TypeError('extpoint: health(module, point) needs the module when a point is given');
  if (module !== undefined) assertCallNames(module, 'x');
  return [...registry.allPoints()].filter((p) => p.live.length > 0 && (module === undefined || p.module === module));
}

/** Reads what a probe returned into a status, or says what is wrong with it. */
function interpret(value: unknown): { status: HealthStatus; reason?: string } {
  if (value === 'ok') return { status: 'ok' };
  if (value !== null && typeof value === 'object') {
    const { status, reason } = value as { status?: unknown; reason?: unknown };
    if (status === 'ok' || status === 'degraded' || status === 'error') {
      return reason === undefined ? { status } : { status, reason: typeof reason === 'string' ? reason : describe(reason) };
    }
  }
  return {
    status: 'error',
    reason: `health() returned ${describe(value)}: expected 'ok' or { status: 'ok' | 'degraded' | 'error', reason? }`,
  };
}

async function probe(module: string, fn: () => unknown, timeoutMs: number): Promise<ModuleHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`health() did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { module, probe: true, ...interpret(value) };
  } catch (err) {
    return { module, probe: true, status: 'error', reason: errorText(err) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(
  registry: HealthSource,
  module?: string,
  point?: string,
  opts: HealthOptions = {},
): Promise<HealthReport> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    throw new TypeError(`extpoint: health timeoutMs must be a number of milliseconds from 1 to 2147483647, not ${String(timeoutMs)}`);
  }
  const points = choosePoints(registry, module, point);
  const serving = new Set<string>();
  for (const p of points) for (const slot of p.live) serving.add(slot.info.module);

  const modules = await Promise.all(
    [...serving].sort().map((name): ModuleHealth | Promise<ModuleHealth> => {
      const fn = registry.modules.get(name)?.health;
      return fn === undefined ? { module: name, status: 'ok', probe: false } : probe(name, fn, timeoutMs);
    }),
  );
  const byName = new Map(modules.map((m) => [m.module, m]));
  const pointRows = points
    .map((p): PointHealth => {
      const plugins = p.live.map((s) => s.info.module);
      return { module: p.module, point: p.point, fn: p.fn, plugins, healthy: plugins.every((m) => byName.get(m)?.status === 'ok') };
    })
    .sort((a, b) => (a.module !== b.module ? (a.module < b.module ? -1 : 1) : a.point < b.point ? -1 : a.point > b.point ? 1 : 0));
  return { healthy: pointRows.every((p) => p.healthy), points: pointRows, modules };
}
