/**
 * Sync calls into plugins whose code runs elsewhere (a worker node). Such a plugin's function is a proxy
 * that answers with a promise; when its node can also answer synchronously, the proxy is marked with a
 * `Crossing` (`markCrossing`), and `compileSync` builds the caller here instead of the in-process one:
 * every plugin of one node crosses in one batch, at the place of the first of them in the point's order,
 * and the results come back in the point's order. Points with no such plugin never reach this file, so
 * in-process sync calls run exactly the code they ran before.
 */
import type { PluginResult } from '../core/types.js';
import { EASYNC, ExtpointError } from '../core/errors.js';
import type { PluginFn, PluginSlot } from './slot.js';
import { DEPTH_MAX, isThenable, tooDeep, type CallTarget } from './target.js';
import { pluginFns } from './traced.js';

/** Which plugin of a node a batch entry names: the plugin's own module and its export name. */
export interface CrossingCall {
  readonly module: string;
  readonly fn: string;
}

/** One entry's answer: what the plugin returned, or what it threw (or why the node could not run it). */
export type CrossingAnswer = { ok: true; data: unknown } | { ok: false; error: unknown };

/** A place that runs a batch of plugin calls synchronously, all with the same arguments. */
export interface SyncTarget {
  /** One answer per entry of `calls`, in order; never throws. */
  callSync(calls: readonly CrossingCall[], args: unknown): CrossingAnswer[];
}

/** What a proxy plugin function carries: the node that runs it and which plugin it is there. */
export interface Crossing extends CrossingCall {
  readonly node: SyncTarget;
}

/**
 * The proxies that cross, kept aside rather than on the functions: a plugin's own function (a Proxy with
 * a `get` trap, say) can neither pass for one nor throw when asked.
 */
const crossings = new WeakMap<PluginFn, Crossing>();

/** Marks `proxy` as a plugin that `crossing.node` can run synchronously, in batches. */
export function markCrossing<F extends PluginFn>(proxy: F, crossing: Crossing): F {
  crossings.set(proxy, Object.freeze({ node: crossing.node, module: crossing.module, fn: crossing.fn }));
  return proxy;
}

/** The crossing a plugin function carries, if any. */
export function crossingOf(fn: PluginFn | null): Crossing | undefined {
  return fn === null ? undefined : crossings.get(fn);
}

/** True when one of `slots` runs elsewhere and can be called synchronously. */
export function anyCrossing(slots: readonly PluginSlot[]): boolean {
  for (const s of slots) if (crossingOf(s.impl) !== undefined) return true;
  return false;
}

/** The `EASYNC` reason of a plugin that returned a promise to a synchronous call, wherever it ran. */
export function asyncInSyncError(module: string, fn: string): ExtpointError {
  return new ExtpointError(
    EASYNC,
    `plugin ${module}.${fn} returned a promise to a synchronous call; ` +
      'call the point with callPlugins (or point().call) to await async plugins',
  );
}

/** The plugins of one node in a point: where they sit in the point's order and what crosses for them. */
interface Group {
  node: SyncTarget;
  at: number[];
  calls: CrossingCall[];
}

/**
 * The sync caller of a point with plugins on other nodes. In-process plugins run in place as in the
 * loop caller; each node's plugins run as one batch when the first of them comes up. Counters are the
 * slots' own (no tally): a crossing costs far more than the count.
 */
export function compileCrossingSync(p: CallTarget, slots: PluginSlot[]): (args: unknown) => PluginResult[] {
  const n = slots.length;
  // in-process plugins run through their traced wrappers while extpoint:plugin has subscribers
  const fns = pluginFns(p, slots, 'callSync');
  const groups: Group[] = [];
  /** For each plugin: -1 in process, else its group; `starts[i]` true for the first plugin of a group. */
  const groupOf = new Int32Array(n).fill(-1);
  const starts = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = crossingOf(slots[i]!.impl as PluginFn);
    if (c === undefined) continue;
    let g = groups.findIndex((x) => x.node === c.node);
    if (g === -1) {
      g = groups.push({ node: c.node, at: [], calls: [] }) - 1;
      starts[i] = 1;
    }
    groups[g]!.at.push(i);
    groups[g]!.calls.push(Object.freeze({ module: c.module, fn: c.fn }));
    groupOf[i] = g;
  }
  const profiling = p.profiling;

  function cross(group: Group, args: unknown, out: PluginResult[]): void {
    const t0 = profiling ? performance.now() : 0;
    let answers: CrossingAnswer[];
    try {
      answers = group.node.callSync(group.calls, args);
    } catch (e) {
      // a node's callSync does not throw; should one, each of its plugins fails with what it threw
      answers = group.at.map(() => ({ ok: false, error: e }));
    }
    // the crossing's time is shared by the plugins it carried
    const share = profiling ? (performance.now() - t0) / group.at.length : 0;
    for (let k = 0; k < group.at.length; k++) {
      const i = group.at[k]!;
      const s = slots[i]!;
      const a = answers[k];
      if (a !== undefined && a.ok) {
        s.ok++;
        out[i] = { state: 'ok', info: s.info, data: a.data };
      } else out[i] = s.fail(a === undefined ? new Error('extpoint: the node sent no answer for this plugin') : a.error);
      if (profiling) s.timed(share);
    }
  }

  return (args) => {
    if (p.depth >= DEPTH_MAX) throw tooDeep(slots);
    p.depth++;
    try {
      const out = new Array<PluginResult>(n);
      for (let i = 0; i < n; i++) {
        const g = groupOf[i]!;
        if (g !== -1) {
          if (starts[i] === 1) cross(groups[g]!, args, out);
          continue;
        }
        const s = slots[i]!;
        const t0 = profiling ? performance.now() : 0;
        try {
          const d = fns[i]!.call(undefined, args);
          if (!isThenable(d)) {
            s.ok++;
            out[i] = { state: 'ok', info: s.info, data: d };
          } else {
            silence(d);
            out[i] = s.fail(asyncInSyncError(s.info.module, s.info.fn));
          }
        } catch (e) {
          out[i] = s.fail(e);
        }
        if (profiling) s.timed(performance.now() - t0);
      }
      return out;
    } finally {
      p.depth--;
    }
  };
}

/** A thenable a sync call will not wait for: its failure, if any, is nobody's to handle. */
export function silence(value: PromiseLike<unknown>): void {
  try {
    value.then(undefined, () => {});
  } catch {
    // a thenable whose then throws has nothing left to silence
  }
}
