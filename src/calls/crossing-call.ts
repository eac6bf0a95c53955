/**
 * Async callers (`call`) of points with plugins on other nodes (see crossing-node.ts). A call hands each node
 * all of its plugins for the point in one crossing, sent before the in-process plugins run, so the nodes
 * work while this thread does; the in-process plugins then run in order as in `compileCall` (each async
 * one awaited before the next, or all at once with `parallel`). Results come back in the point's order.
 * Points without such plugins keep `compileCall`'s callers, untouched.
 */
import type { PluginResult } from '../core/types.js';
import type { PluginFn, PluginSlot } from './slot.js';
import { isThenable, overloaded, refusal, runnable, type CallTarget } from './target.js';
import { checkCallOptions, compileCall, type AsyncCaller } from './async.js';
import { bookOk, checkOverrun, followTimed, timeoutError } from './outcome.js';
import { nodeCrossingOf, crossingPlan, runPlan, type CrossingEntry, type CrossingNode, type CrossingPlan } from './crossing-node.js';
import type { CrossingAnswer } from './crossing.js';
import { tracing } from '../trace/channels.js';
import { compileAbortableCall, type AbortableCaller } from './abort.js';

/** One node's plugins of a point: their places in the point's order and the plan the node runs. */
interface Group {
  readonly node: CrossingNode;
  readonly plan: CrossingPlan;
  readonly slots: PluginSlot[];
  readonly at: number[];
}

/** The plugins of `slots` on other nodes, grouped by node in order of first appearance; empty when none. */
export function groupByNode(slots: readonly PluginSlot[]): Group[] {
  const byNode = new Map<CrossingNode, { entries: CrossingEntry[]; slots: PluginSlot[]; at: number[] }>();
  slots.forEach((s, i) => {
    const c = nodeCrossingOf(s.impl);
    if (c === undefined) return;
    let g = byNode.get(c.node);
    if (g === undefined) byNode.set(c.node, (g = { entries: [], slots: [], at: [] }));
    g.entries.push(c.entry);
    g.slots.push(s);
    g.at.push(i);
  });
  return [...byNode].map(([node, g]) => ({ node, plan: crossingPlan(g.entries), slots: g.slots, at: g.at }));
}

/**
 * The async caller of `p`: batched per node when some of its plugins run on other nodes. While
 * `extpoint:plugin` has subscribers, each plugin is traced on its own (traced.ts), so it crosses on its own.
 */
export function callerOf(p: CallTarget): AsyncCaller {
  if (tracing.plugin) return compileCall(p);
  const slots = runnable(p);
  const groups = groupByNode(slots);
  if (groups.length === 0) return compileCall(p);
  return compileCrossingCall(p, slots, groups);
}

function compileCrossingCall(p: CallTarget, slots: PluginSlot[], groups: Group[]): AsyncCaller {
  const n = slots.length;
  const profiling = p.profiling;
  const local: number[] = [];
  const crossing = new Set(groups.flatMap((g) => g.at));
  for (let i = 0; i < n; i++) if (!crossing.has(i)) local.push(i);
  const fns = slots.map((s) => s.impl as PluginFn);

  /** Fills `out` with one node's answers. */
  function fill(g: Group, answers: CrossingAnswer[], out: PluginResult[], t0: number): void {
    const ms = profiling ? performance.now() - t0 : 0;
    for (let k = 0; k < g.slots.length; k++) {
      const s = g.slots[k]!;
      const a = answers[k];
      if (a === undefined) out[g.at[k]!] = s.fail(new Error(`node "${g.node.name}" gave no answer for plugin ${s.info.module}.${s.info.fn}`));
      else if (a.ok) {
        s.ok++;
        out[g.at[k]!] = { state: 'ok', info: s.info, data: a.data };
      } else out[g.at[k]!] = s.fail(a.error);
      if (profiling) s.timed(ms);
    }
  }

  /** One node's crossing, cut off past `timeoutMs` (every plugin of it then `ETIMEOUT`); never rejects. */
  function cross(g: Group, args: unknown, out: PluginResult[], t0: number, timeoutMs: number | undefined): Promise<void> {
    const sent = runPlan(g.node, g.plan, args);
    if (timeoutMs === undefined) return sent.then((answers) => fill(g, answers, out, t0));
    return new Promise<void>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        fill(g, g.slots.map((s) => ({ ok: false, error: timeoutError(s, timeoutMs) })), out, t0);
        resolve();
      }, Math.max(0, timeoutMs - (performance.now() - t0)));
      void sent.then((answers) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fill(g, answers, out, t0);
        resolve();
      });
    });
  }

  /** One in-process plugin's thenable, followed into `out[i]`. */
  function settleLocal(i: number, d: PromiseLike<unknown>, out: PluginResult[], t0: number, timeoutMs: number | undefined): Promise<void> {
    const s = slots[i]!;
    return new Promise<void>((resolve) => {
      const done = () => {
        if (profiling) s.timed(performance.now() - t0);
        resolve();
      };
      try {
        followTimed(
          s,
          d,
          timeoutMs,
          t0,
          (v) => {
            s.ok++;
            out[i] = { state: 'ok', info: s.info, data: v };
            if (timeoutMs !== undefined) checkOverrun(s, t0, timeoutMs);
            done();
          },
          (e) => {
            out[i] = s.fail(e);
            done();
          },
        );
      } catch (e) {
        out[i] = s.fail(e);
        done();
      }
    });
  }

  /** The in-process plugins in order: the first ones in this turn, each thenable awaited unless `parallel`. */
  async function runLocal(args: unknown, out: PluginResult[], parallel: boolean, timeoutMs: number | undefined): Promise<void> {
    const clocked = profiling || timeoutMs !== undefined;
    const waits: Promise<void>[] = [];
    for (const i of local) {
      const s = slots[i]!;
      const t0 = clocked ? performance.now() : 0;
      let d: unknown;
      try {
        d = fns[i]!.call(undefined, args);
        if (isThenable(d)) {
          const settled = settleLocal(i, d, out, t0, timeoutMs);
          if (parallel) waits.push(settled);
          else await settled;
          continue;
        }
      } catch (e) {
        out[i] = s.fail(e);
        if (profiling) s.timed(performance.now() - t0);
        continue;
      }
      out[i] = { state: 'ok', info: s.info, data: d };
      bookOk(s, t0, profiling, timeoutMs);
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  // a call given a signal goes the abortable caller's way, each plugin crossing on its own (abort.ts)
  let withSignal: AbortableCaller | undefined;
  const only = local.length === 0 && groups.length === 1 ? groups[0]! : null;
  return (args, opts) => {
    let timeoutMs: number | undefined;
    let parallel = false;
    if (opts !== undefined) {
      checkCallOptions(opts);
      if (opts.signal !== undefined) return (withSignal ??= compileAbortableCall(p, slots, fns))(args, opts);
      timeoutMs = opts.timeoutMs;
      parallel = opts.parallel === true;
    }
    if (overloaded(p)) throw refusal(p, slots);
    const out = new Array<PluginResult>(n);
    const t0 = profiling || timeoutMs !== undefined ? performance.now() : 0;
    p.inFlight++;
    if (only !== null && timeoutMs === undefined) {
      // One node, nothing in-process: the node's answers straight into the results.
      return runPlan(only.node, only.plan, args).then((answers) => {
        p.inFlight--;
        fill(only, answers, out, t0);
        return out;
      });
    }
    const waits: Promise<void>[] = [];
    p.depth++;
    try {
      for (const g of groups) waits.push(cross(g, args, out, t0, timeoutMs));
      if (local.length > 0) waits.push(runLocal(args, out, parallel, timeoutMs));
    } finally {
      p.depth--;
    }
    return Promise.all(waits).then(() => {
      p.inFlight--;
      return out;
    });
  };
}
