/**
 * Pipelines (`pipe`) of points with plugins on other nodes (see crossing-node.ts): the chain is cut into runs
 * of consecutive steps on one node, and each run crosses once, the node threading the state through its
 * steps (and stopping at a halt or a failure) before it answers. In-process steps run as in
 * `compilePipe`. Points without such plugins keep `compilePipe`'s callers, untouched.
 */
import type { PipeOptions } from '../core/types.js';
import { HALT } from '../core/halt.js';
import type { PluginFn, PluginSlot } from './slot.js';
import { isThenable, overloaded, refusal, runnable, type CallTarget } from './target.js';
import { checkPipeOptions } from './async.js';
import { compilePipe, pipeOutcome, type PipeCaller } from './pipe.js';
import { bookOk, bookStepExit, outcomeOf, timeoutError } from './outcome.js';
import { tracing } from '../trace/channels.js';
import { compileAbortablePipe, type AbortablePipe } from './abort.js';
import { nodeCrossingOf, crossingPlan, type CrossingNode, type CrossingPipeAnswer, type CrossingPlan } from './crossing-node.js';

/** Consecutive steps: one in-process step (`node` null), or a run of steps on one node. */
interface Run {
  readonly node: CrossingNode | null;
  readonly plan: CrossingPlan | null;
  readonly slots: PluginSlot[];
  /** An in-process step's code, as compiled. */
  readonly fn: PluginFn | null;
}

/** The pipe caller of `p`: a crossing per run of one node's steps when some of its plugins run on other nodes. */
export function pipeCallerOf(p: CallTarget): PipeCaller {
  // while each plugin is traced on its own, each step crosses on its own (traced.ts)
  if (tracing.plugin) return compilePipe(p);
  const slots = runnable(p);
  const runs: Run[] = [];
  let crosses = false;
  let open: { node: CrossingNode; slots: PluginSlot[] } | null = null;
  const close = () => {
    if (open === null) return;
    runs.push({ node: open.node, plan: crossingPlan(open.slots.map((s) => nodeCrossingOf(s.impl)!.entry)), slots: open.slots, fn: null });
    open = null;
  };
  for (const s of slots) {
    const c = nodeCrossingOf(s.impl);
    if (c === undefined) {
      close();
      runs.push({ node: null, plan: null, slots: [s], fn: s.impl });
      continue;
    }
    crosses = true;
    if (open !== null && open.node !== c.node) close();
    (open ??= { node: c.node, slots: [] }).slots.push(s);
  }
  close();
  if (!crosses) return compilePipe(p);
  return compileCrossingPipe(p, slots, runs);
}

function isHalt(value: unknown): value is { [HALT]: unknown } {
  return value !== null && typeof value === 'object' && HALT in value;
}

/** A run's crossing, with a deadline of `timeoutMs` per step when given; never rejects. */
function crossRun(run: Run, state: unknown, t0: number, timeoutMs: number | undefined): Promise<CrossingPipeAnswer> {
  const node = run.node!;
  const sent = node.pipe !== undefined ? node.pipe(run.plan!, state) : stepByStep(node, run.plan!, state);
  if (timeoutMs === undefined) return sent;
  const ms = timeoutMs * run.slots.length;
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve({ ok: false, ran: 0, error: timeoutError(run.slots[0]!, ms) });
    }, Math.max(0, ms - (performance.now() - t0)));
    void sent.then((a) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    });
  });
}

/** For a node without `pipe`: each step crosses on its own. */
async function stepByStep(node: CrossingNode, plan: CrossingPlan, state: unknown): Promise<CrossingPipeAnswer> {
  let ran = 0;
  for (const e of plan.entries) {
    const [a] = await node.call([{ module: e.module, fn: e.fn, args: state }]);
    if (a === undefined || !a.ok) return { ok: false, ran, error: a?.error };
    state = a.data;
    ran++;
  }
  return { ok: true, ran, halted: false, data: state };
}

function compileCrossingPipe(p: CallTarget, slots: PluginSlot[], runs: Run[]): PipeCaller {
  const n = slots.length;
  const profiling = p.profiling;

  async function chain(input: unknown, opts: PipeOptions | undefined): Promise<unknown> {
    const timeoutMs = opts?.timeoutMs;
    const clocked = profiling || timeoutMs !== undefined;
    let state = input;
    p.inFlight++;
    try {
      for (const run of runs) {
        const t0 = clocked ? performance.now() : 0;
        if (run.node !== null) {
          const a = await crossRun(run, state, t0, timeoutMs);
          const each = profiling ? (performance.now() - t0) / Math.max(1, a.ran + (a.ok ? 0 : 1)) : 0;
          for (let k = 0; k < a.ran && k < run.slots.length; k++) {
            run.slots[k]!.ok++;
            if (profiling) run.slots[k]!.timed(each);
          }
          if (!a.ok) {
            const failed = run.slots[Math.min(a.ran, run.slots.length - 1)]!;
            failed.recordExit(a.error);
            if (profiling) failed.timed(each);
            return input;
          }
          if (a.halted) return pipeOutcome(input, a.data, opts, run.slots[Math.max(0, a.ran - 1)]!);
          state = a.data;
          continue;
        }
        const s = run.slots[0]!;
        let d: unknown;
        let halted = false;
        try {
          d = run.fn!.call(undefined, state);
          if (isThenable(d)) {
            const o = await outcomeOf(s, d, timeoutMs, t0);
            if (!o.ok) throw o.reason;
            d = o.value;
          }
          halted = isHalt(d);
          if (halted) d = (d as { [HALT]: unknown })[HALT];
        } catch (e) {
          bookStepExit(s, e, t0, profiling);
          return input;
        }
        bookOk(s, t0, profiling, timeoutMs);
        if (halted) return pipeOutcome(input, d, opts, s);
        state = d;
      }
      return pipeOutcome(input, state, opts, slots[n - 1]!);
    } finally {
      p.inFlight--;
    }
  }

  // a pipe given a signal goes the abortable pipe's way, each step crossing on its own (abort.ts)
  let withSignal: AbortablePipe | undefined;
  return (input, opts) => {
    if (opts !== undefined) {
      checkPipeOptions(opts);
      if (opts.signal !== undefined) return (withSignal ??= compileAbortablePipe(p, slots, slots.map((s) => s.impl as PluginFn), pipeOutcome))(input, opts);
    }
    if (overloaded(p)) throw refusal(p, slots);
    p.depth++;
    try {
      return chain(input, opts);
    } finally {
      p.depth--;
    }
  };
}
