/**
 * Pipelines (`pipe`) compiled for one point: one state threaded through the chain, as MishkaInstaller's
 * hooks do. A step returns the next state, or `halt(value)` to end the chain with it.
 */
import type { PipeOptions } from '../core/types.js';
import { HALT } from '../core/halt.js';
import type { PluginFn, PluginSlot } from './slot.js';
import { DEPTH_MAX, FLIGHT_MAX, GENERATED_MAX, isThenable, overloaded, refusal, runnable, type CallTarget } from './target.js';
import { canGenerate, generateFunction } from './codegen.js';
import { checkPipeOptions } from './async.js';
import { bookOk, bookStepExit, checkOverrun, nativeThen, outcomeOf } from './outcome.js';
import { pluginFns } from './traced.js';
import { compileAbortablePipe, type AbortablePipe } from './abort.js';

export type PipeCaller = (state: unknown, opts?: PipeOptions) => Promise<unknown>;

function isHalt(value: unknown): value is { [HALT]: unknown } {
  return value !== null && typeof value === 'object' && HALT in value;
}

/**
 * The chain's outcome, shaped by the options: the input untouched, or the result with `private` merged,
 * whatever the result is (a new object, or the very object the step was given). `last` is the step that
 * produced the result: if its result cannot be copied (a hostile object), that step fails after all and
 * the input comes back.
 */
export function pipeOutcome(input: unknown, result: unknown, opts: PipeOptions | undefined, last: PluginSlot): unknown {
  if (opts === undefined) return result;
  if (opts.returnInput === true) return input;
  const priv = opts.private;
  if (priv !== undefined && result !== null && typeof result === 'object') {
    try {
      if (!Array.isArray(result)) return { ...(result as object), ...priv };
    } catch (e) {
      last.ok--;
      last.recordExit(e);
      return input;
    }
  }
  return result;
}

export function compilePipe(p: CallTarget): PipeCaller {
  const slots = runnable(p);
  if (slots.length === 0) {
    return (state, opts) => {
      if (opts !== undefined) checkPipeOptions(opts);
      return Promise.resolve(state);
    };
  }
  const fns = pluginFns(p, slots, 'pipe');
  const n = slots.length;
  const profiling = p.profiling;

  /**
   * The rest of a chain from plugin `from`, whose thenable is `pending`. Reading what a step returned
   * (its `then`, its halt key) happens inside the step's try: a hostile value fails that step.
   */
  async function finish(
    input: unknown,
    from: number,
    pending: PromiseLike<unknown>,
    startedAt: number,
    opts: PipeOptions | undefined,
  ): Promise<unknown> {
    const timeoutMs = opts?.timeoutMs;
    const clocked = profiling || timeoutMs !== undefined;
    let state: unknown;
    p.inFlight++;
    try {
      for (let i = from; i < n; i++) {
        const s = slots[i]!;
        const t0 = i === from ? startedAt : clocked ? performance.now() : 0;
        let d: unknown;
        let halted = false;
        try {
          d = i === from ? pending : fns[i]!.call(undefined, state);
          if (isThenable(d)) {
            if (timeoutMs === undefined && d.then === nativeThen) d = await d;
            else {
              // followed without handing it to a promise: a thenable that never settles cannot starve the loop
              const o = await outcomeOf(s, d, timeoutMs, t0);
              if (!o.ok) throw o.reason;
              d = o.value;
            }
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

  // a pipe given a signal goes its own way, built on first use: the callers below stay as they are for
  // every other pipe
  let withSignal: AbortablePipe | undefined;
  const abortable: AbortablePipe = (input, opts) => (withSignal ??= compileAbortablePipe(p, slots, fns, pipeOutcome))(input, opts);
  if (!profiling && n <= GENERATED_MAX && canGenerate()) return generatePipe(p, slots, fns, finish, abortable);

  const loop: PipeCaller = (input, opts) => {
    const timeoutMs = opts !== undefined ? (checkPipeOptions(opts), opts.timeoutMs) : undefined;
    const clocked = profiling || timeoutMs !== undefined;
    let state = input;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const t0 = clocked ? performance.now() : 0;
      let d: unknown;
      let halted = false;
      try {
        d = fns[i]!.call(undefined, state);
        if (isThenable(d)) return finish(input, i, d, t0, opts);
        halted = isHalt(d);
        if (halted) d = (d as { [HALT]: unknown })[HALT];
      } catch (e) {
        bookStepExit(s, e, t0, profiling);
        return Promise.resolve(input);
      }
      bookOk(s, t0, profiling, timeoutMs);
      if (halted) return Promise.resolve(pipeOutcome(input, d, opts, s));
      state = d;
    }
    return Promise.resolve(pipeOutcome(input, state, opts, slots[n - 1]!));
  };
  return (input, opts) => {
    if (opts != null && opts.signal !== undefined) {
      checkPipeOptions(opts);
      return abortable(input, opts);
    }
    if (overloaded(p)) throw refusal(p, slots);
    p.depth++;
    try {
      return loop(input, opts);
    } finally {
      p.depth--;
    }
  };
}

/** The sync part of a chain as straight-line code; the first thenable hands the rest to `finish`. */
function generatePipe(
  p: CallTarget,
  slots: PluginSlot[],
  fns: PluginFn[],
  finish: (input: unknown, from: number, pending: PromiseLike<unknown>, startedAt: number, opts: PipeOptions | undefined) => Promise<unknown>,
  abortable: AbortablePipe,
): PipeCaller {
  const bind: string[] = [];
  const body: string[] = [
    `if (P.depth >= ${DEPTH_MAX} || P.inFlight >= ${FLIGHT_MAX}) throw refusal(P, S);`,
    'if (opts !== undefined && (check(opts), opts.signal !== undefined)) return abortable(input, opts);',
    'const clocked = opts !== undefined && opts.timeoutMs !== undefined;',
    'P.depth++;',
    'try {',
    'let state = input, d, halted, t0 = 0;',
  ];
  const thenable = `d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d.then === 'function'`;
  for (let i = 0; i < slots.length; i++) {
    bind.push(`f${i} = F[${i}], s${i} = S[${i}]`);
    body.push(
      'if (clocked) t0 = performance.now();',
      `try { d = f${i}(state); if (${thenable}) return finish(input, ${i}, d, t0, opts); ` +
        `halted = d !== null && typeof d === 'object' && H in d; if (halted) d = d[H]; } ` +
        `catch (e) { s${i}.recordExit(e); return Promise.resolve(input); }`,
      `s${i}.ok++;`,
      `if (clocked) overrun(s${i}, t0, opts.timeoutMs);`,
      `if (halted) return Promise.resolve(outcome(input, d, opts, s${i}));`,
      'state = d;',
    );
  }
  body.push(`return Promise.resolve(outcome(input, state, opts, s${slots.length - 1}));`, '} finally { P.depth--; }');
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function pipe(input, opts) {\n${body.join('\n')}\n};`;
  const factory = generateFunction(['F', 'S', 'P', 'H', 'finish', 'outcome', 'check', 'overrun', 'refusal', 'abortable'], source, slots) as (
    f: PluginFn[],
    s: PluginSlot[],
    point: CallTarget,
    h: typeof HALT,
    fin: typeof finish,
    outcome: typeof pipeOutcome,
    check: typeof checkPipeOptions,
    overrun: typeof checkOverrun,
    refuse: typeof refusal,
    abortable: AbortablePipe,
  ) => PipeCaller;
  return factory(fns, slots, p, HALT, finish, pipeOutcome, checkPipeOptions, checkOverrun, refusal, abortable);
}
