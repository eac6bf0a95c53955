/**
 * Health probes: a plugin module may export `health()`, returning `'ok'` or `{ status, reason? }`, sync or
 * async. A check runs the probes of the plugin modules that run on the chosen points concurrently, each with
 * a timeout, and reports per module and per point. Disabled and held plugins are listed as such and left
 * out of the verdict; a module or point the registry does not know is an error, never healthy. It reports
 * only; it never stops calls.
 */
import type { PointState } from './point.js';
import { assertCallNames, describe } from '../core/naming.js';
import { errorText } from '../core/declarations.js';
import { isThenable } from './target.js';
import { follow } from './outcome.js';
import { EUNKNOWN, ExtpointError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';

/** What a health check reads of the registry: its points and each module's probe. */
export interface HealthSource {
  /** A point that is declared, plugged into, flagged or called; undefined for any other. */
  known(module: string, point: string): PointState | undefined;
  /** True when the module is registered, or a point of it is declared, plugged into, flagged or called. */
  knowsModule(module: string): boolean;
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

/** One point's health: healthy when every plugin module that runs on it is ok. */
export interface PointHealth {
  module: string;
  point: string;
  fn: string;
  healthy: boolean;
  /** The plugin modules that run on it, in call order: these alone decide `healthy`. */
  plugins: string[];
  /** Registered plugin modules switched off on this point: not probed for it, and not counted. */
  disabled: string[];
  /** Registered plugin modules held by a dependency (`heldBy`): not probed for it, and not counted. */
  held: { module: string; heldBy: string }[];
  /**
   * Its plugins whose result came in after a call's `timeoutMs` and was kept (a sync plugin cannot be cut
   * off), with how often and the last time. Reported only: slow plugins do not change `healthy`.
   */
  slow: SlowPlugin[];
}

/** A plugin that overran a call's `timeoutMs`: `count` times in all, the last one taking `lastMs`. */
export interface SlowPlugin {
  module: string;
  count: number;
  lastMs: number;
  timeoutMs: number;
  at: Date;
}

export interface HealthReport {
  /** True when every point checked is healthy. */
  healthy: boolean;
  points: PointHealth[];
  modules: ModuleHealth[];
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

/** The error for a module or point the registry does not know: never reported healthy. */
function unknown(what: string, why: string): Error {
  return new ExtpointError(EUNKNOWN, `extpoint: health(${what}): ${why}; check the name (health() with no arguments checks every point)`);
}

function choosePoints(registry: HealthSource, module?: string, point?: string): PointState[] {
  if (module !== undefined && point !== undefined) {
    assertCallNames(module, point);
    const p = registry.known(module, point);
    if (p === undefined) {
      throw unknown(
        `"${module}", "${point}"`,
        `point "${point}" of module "${module}" is unknown: no module declares it, no plugin plugs into it, and it was never called`,
      );
    }
    return [p];
  }
  if (point !== undefined) throw new TypeError('extpoint: health(module, point) needs the module when a point is given');
  if (module !== undefined) {
    assertCallNames(module, 'x');
    if (!registry.knowsModule(module)) {
      throw unknown(`"${module}"`, `module "${module}" is unknown: it is not registered, and no point of it is declared, plugged into or called`);
    }
  }
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

/**
 * Runs one probe with a deadline. Whatever it returns or throws, the check answers: a returned thenable
 * is followed without handing it to a promise (so one that adopts itself cannot starve the event loop),
 * and a value that cannot be read is an error with a reason.
 */
function probe(module: string, fn: () => unknown, timeoutMs: number): Promise<ModuleHealth> {
  return new Promise((resolve) => {
    let done = false;
    const answer = (row: Omit<ModuleHealth, 'module' | 'probe'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ module, probe: true, ...row });
    };
    const fail = (err: unknown) => answer({ status: 'error', reason: errorText(err) });
    const read = (value: unknown) => {
      try {
        answer(interpret(value));
      } catch (err) {
        fail(err);
      }
    };
    const timer = setTimeout(() => fail(new Error(`health() did not answer within ${timeoutMs} ms`)), timeoutMs);
    // called in a microtask, as before: a probe never runs inside the caller's own turn
    queueMicrotask(() => {
      try {
        const value = fn();
        if (isThenable(value)) follow(value, read, fail);
        else read(value);
      } catch (err) {
        fail(err);
      }
    });
  });
}

function slowPlugins(p: PointState): SlowPlugin[] {
  const slow: SlowPlugin[] = [];
  for (const slot of p.live) {
    const last = slot.lastSlow;
    if (last === null) continue;
    slow.push({ module: slot.info.module, count: slot.slow, lastMs: last.ms, timeoutMs: last.timeoutMs, at: last.at });
  }
  return slow;
}

export async function checkHealth(
  registry: HealthSource,
  module?: string,
  point?: string,
  opts: HealthOptions = {},
): Promise<HealthReport> {
  checkOptions('health options', opts, ['timeoutMs']);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    throw new TypeError(`extpoint: health timeoutMs must be a number of milliseconds from 1 to 2147483647, not ${String(timeoutMs)}`);
  }
  const points = choosePoints(registry, module, point);
  const serving = new Set<string>();
  for (const p of points) for (const slot of p.live) if (slot.runnable) serving.add(slot.info.module);

  const modules = await Promise.all(
    [...serving].sort().map((name): ModuleHealth | Promise<ModuleHealth> => {
      const fn = registry.modules.get(name)?.health;
      return fn === undefined ? { module: name, status: 'ok', probe: false } : probe(name, fn, timeoutMs);
    }),
  );
  const byName = new Map(modules.map((m) => [m.module, m]));
  const pointRows = points
    .map((p): PointHealth => {
      const row: PointHealth = { module: p.module, point: p.point, fn: p.fn, healthy: true, plugins: [], disabled: [], held: [], slow: slowPlugins(p) };
      for (const slot of p.live) {
        const name = slot.info.module;
        if (!slot.enabled) row.disabled.push(name);
        else if (slot.heldBy !== null) row.held.push({ module: name, heldBy: slot.heldBy });
        else row.plugins.push(name);
      }
      row.healthy = row.plugins.every((m) => byName.get(m)?.status === 'ok');
      return row;
    })
    .sort((a, b) => (a.module !== b.module ? (a.module < b.module ? -1 : 1) : a.point < b.point ? -1 : a.point > b.point ? 1 : 0));
  return { healthy: pointRows.every((p) => p.healthy), points: pointRows, modules };
}
