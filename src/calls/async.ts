/**
 * Asynchronous callers (`call`) compiled for one point: plugins that return plain values cost no promise;
 * the first thenable switches the rest of the call to awaiting, in callbacks rather than an async function.
 * Also the option check and the timed wait that pipelines share.
 */
import type { CallOptions, PipeOptions, PluginResult } from '../core/types.js';
import type { PluginFn, PluginSlot } from './slot.js';
import {
  DEPTH_MAX,
  FLIGHT_MAX,
  GENERATED_MAX,
  isThenable,
  overloaded,
  refusal,
  runnable,
  type CallTarget,
} from './target.js';
import { canGenerate, generateFunction } from './codegen.js';
import { bookOk, checkOverrun, follow, followTimed, nativeThen } from './outcome.js';
import { unknownOption } from '../core/options.js';
import { pluginFns } from './traced.js';
import { checkSignal, compileAbortableCall, type AbortableCaller } from './abort.js';

export type AsyncCaller = (args: unknown, opts?: CallOptions) => Promise<PluginResult[]>;

const noResultsAsync: AsyncCaller = (_args, opts) => {
  if (opts !== undefined) checkCallOptions(opts);
  return Promise.resolve([]);
};

const CALL_KEYS = ['timeoutMs', 'parallel', 'signal'] as const;
const PIPE_KEYS = ['timeoutMs', 'private', 'returnInput', 'signal'] as const;

/**
 * Rejects bad call options with a TypeError that says what is wrong: an unknown key is named with the
 * nearest known one. Runs only when options are given; the key loop allocates nothing.
 */
export function checkCallOptions(opts: CallOptions): void {
  if (opts === null || typeof opts !== 'object') throw notAnObject('call', opts);
  for (const key in opts) {
    if (key !== 'timeoutMs' && key !== 'parallel' && key !== 'signal') throw unknownOption('call options', key, CALL_KEYS);
  }
  checkTimeout(opts.timeoutMs);
  if (opts.signal !== undefined) checkSignal(opts.signal);
}

/** As `checkCallOptions`, for the options of `pipe`. */
export function checkPipeOptions(opts: PipeOptions): void {
  if (opts === null || typeof opts !== 'object') throw notAnObject('pipe', opts);
  for (const key in opts) {
    if (key !== 'timeoutMs' && key !== 'private' && key !== 'returnInput' && key !== 'signal') {
      throw unknownOption('pipe options', key, PIPE_KEYS);
    }
  }
  checkTimeout(opts.timeoutMs);
  if (opts.signal !== undefined) checkSignal(opts.signal);
}

function notAnObject(kind: string, opts: unknown): TypeError {
  return new TypeError(`extpoint: ${kind} options must be an object, not ${opts === null ? 'null' : typeof opts}`);
}

function checkTimeout(t: unknown): void {
  if (t !== undefined && !(typeof t === 'number' && t > 0 && t <= 2_147_483_647)) {
    throw new TypeError(
      `extpoint: timeoutMs must be a number of milliseconds from 1 to 2147483647, not ${String(t)}`,
    );
  }
}

/**
 * Settles one plugin's thenable into its result: `ok` with its value, `EXIT` with its failure or, past
 * `timeoutMs` (counted from `startedAt`, when the plugin was called), with an `ETIMEOUT` error. A late
 * outcome changes nothing. The promise resolves with the result object, never with the plugin's value.
 */
function settle(
  p: CallTarget,
  slot: PluginSlot,
  value: PromiseLike<unknown>,
  timeoutMs: number | undefined,
  startedAt: number,
): Promise<PluginResult> {
  p.inFlight++;
  return new Promise((resolve) => {
    followTimed(
      slot,
      value,
      timeoutMs,
      startedAt,
      (data) => {
        p.inFlight--;
        slot.ok++;
        if (timeoutMs !== undefined) checkOverrun(slot, startedAt, timeoutMs);
        resolve({ state: 'ok', info: slot.info, data });
      },
      (reason) => {
        p.inFlight--;
        resolve(slot.fail(reason));
      },
    );
  });
}

export function compileCall(p: CallTarget): AsyncCaller {
  const slots = runnable(p);
  if (slots.length === 0) return noResultsAsync;
  const fns = pluginFns(p, slots, 'call');
  const n = slots.length;
  const profiling = p.profiling;

  /**
   * A call from plugin `from + 1` on, after plugin `from` returned the thenable `pending` (or from the
   * start, with `from` -1 and no `pending`). It continues in callbacks, not in an async function, so each
   * async plugin costs one promise reaction; plugins that return plain values run in the same turn.
   */
  function finish(
    args: unknown,
    out: PluginResult[],
    from: number,
    pending: PromiseLike<unknown> | null,
    startedAt: number,
    timeoutMs: number | undefined,
  ): Promise<PluginResult[]> {
    p.inFlight++;
    return new Promise<PluginResult[]>((resolve) => {
      const clocked = profiling || timeoutMs !== undefined;
      let i = from;
      let t0 = startedAt;
      // the plugin being waited on, or -1: a thenable that calls back twice, or late, is ignored
      let waiting = -1;
      const onValue = (value: unknown) => {
        if (waiting !== i) return;
        waiting = -1;
        const s = slots[i]!;
        out[i] = { state: 'ok', info: s.info, data: value };
        bookOk(s, t0, profiling, timeoutMs);
        next();
      };
      const onReason = (reason: unknown) => {
        if (waiting !== i) return;
        waiting = -1;
        const s = slots[i]!;
        out[i] = s.fail(reason);
        if (profiling) s.timed(performance.now() - t0);
        next();
      };
      // A native promise calls back once, later (its `then` called directly: the engine's fast path);
      // any other thenable is followed by `follow`, which counts a thenable that calls back twice, both
      // ways, at once, with itself, or throws, once. A `then` that throws fails the plugin.
      const wait = (d: PromiseLike<unknown>) => {
        waiting = i;
        try {
          if (timeoutMs !== undefined) followTimed(slots[i]!, d, timeoutMs, t0, onValue, onReason);
          else if (d.then === nativeThen) d.then(onValue, onReason);
          else follow(d, onValue, onReason);
        } catch (e) {
          onReason(e);
        }
      };
      // No depth count here: a plugin that calls its point again goes through the point's entry, which
      // counts it.
      const next = () => {
        while (++i < n) {
          const s = slots[i]!;
          t0 = clocked ? performance.now() : 0;
          let d: unknown;
          try {
            d = fns[i]!.call(undefined, args);
            // reading what the plugin returned happens in its try: a hostile value fails this plugin
            if (isThenable(d)) return wait(d);
          } catch (e) {
            out[i] = s.fail(e);
            if (profiling) s.timed(performance.now() - t0);
            continue;
          }
          out[i] = { state: 'ok', info: s.info, data: d };
          bookOk(s, t0, profiling, timeoutMs);
        }
        p.inFlight--;
        resolve(out);
      };
      if (pending === null) next();
      else wait(pending);
    });
  }

  function parallel(args: unknown, timeoutMs: number | undefined): Promise<PluginResult[]> {
    if (overloaded(p)) throw refusal(p, slots);
    p.depth++;
    try {
      return Promise.all(startAll(args, timeoutMs));
    } finally {
      p.depth--;
    }
  }

  /** Starts every plugin of a parallel call: each entry a result, or the promise of one. */
  function startAll(args: unknown, timeoutMs: number | undefined): (PluginResult | Promise<PluginResult>)[] {
    const out = new Array<PluginResult | Promise<PluginResult>>(n);
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const t0 = performance.now();
      try {
        const d = fns[i]!.call(undefined, args);
        if (isThenable(d)) {
          const settled = settle(p, s, d, timeoutMs, t0);
          out[i] = profiling ? settled.finally(() => s.timed(performance.now() - t0)) : settled;
          continue;
        }
        s.ok++;
        out[i] = { state: 'ok', info: s.info, data: d };
      } catch (e) {
        out[i] = s.fail(e);
      }
      if (profiling) s.timed(performance.now() - t0);
      if (timeoutMs !== undefined && (out[i] as PluginResult).state === 'ok') checkOverrun(s, t0, timeoutMs);
    }
    return out;
  }

  // a call given a signal goes its own way, built on first use: the callers below stay as they are for
  // every other call
  let withSignal: AbortableCaller | undefined;
  const abortable: AbortableCaller = (args, opts) => (withSignal ??= compileAbortableCall(p, slots, fns))(args, opts);
  if (!profiling && n <= GENERATED_MAX && canGenerate()) return generateCall(p, slots, fns, finish, parallel, abortable);
  // Profiled and large points, and processes that refuse code generation: the same continuation from
  // the first plugin on.
  return (args, opts) => {
    let timeoutMs: number | undefined;
    if (opts !== undefined) {
      checkCallOptions(opts);
      if (opts.signal !== undefined) return abortable(args, opts);
      timeoutMs = opts.timeoutMs;
      if (opts.parallel === true) return parallel(args, timeoutMs);
    }
    if (overloaded(p)) throw refusal(p, slots);
    return finish(args, new Array<PluginResult>(n), -1, null, 0, timeoutMs);
  };
}

/**
 * The start of an async call as straight-line code: plugins that return plain values are handled as in
 * the sync caller; the first thenable hands the rest of the call to `finish`.
 */
function generateCall(
  p: CallTarget,
  slots: PluginSlot[],
  fns: PluginFn[],
  finish: (...a: [unknown, PluginResult[], number, PromiseLike<unknown> | null, number, number | undefined]) => Promise<PluginResult[]>,
  parallel: (args: unknown, timeoutMs: number | undefined) => Promise<PluginResult[]>,
  abortable: AbortableCaller,
): AsyncCaller {
  const n = slots.length;
  const bind: string[] = [];
  const body: string[] = [
    'let timeoutMs;',
    'if (opts !== undefined) { check(opts); if (opts.signal !== undefined) return abortable(args, opts); timeoutMs = opts.timeoutMs; if (opts.parallel === true) return parallel(args, timeoutMs); }',
    `if (P.depth >= ${DEPTH_MAX} || P.inFlight >= ${FLIGHT_MAX}) throw refusal(P, S);`,
    'P.depth++;',
    'try {',
    `const out = new Array(${n});`,
    'let t0 = 0;',
  ];
  const thenable = `d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d.then === 'function'`;
  for (let i = 0; i < n; i++) {
    bind.push(`f${i} = F[${i}], s${i} = S[${i}], i${i} = s${i}.info`);
    body.push(
      `if (timeoutMs !== undefined) t0 = performance.now();`,
      `try { const d = f${i}(args); if (${thenable}) return finish(args, out, ${i}, d, t0, timeoutMs); ` +
        `s${i}.ok++; out[${i}] = { state: 'ok', info: i${i}, data: d }; ` +
        `if (timeoutMs !== undefined) overrun(s${i}, t0, timeoutMs); } catch (e) { out[${i}] = s${i}.fail(e); }`,
    );
  }
  body.push('return Promise.resolve(out);', '} finally { P.depth--; }');
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function call(args, opts) {\n${body.join('\n')}\n};`;
  const factory = generateFunction(['F', 'S', 'P', 'finish', 'parallel', 'check', 'overrun', 'refusal', 'abortable'], source, slots) as (
    f: PluginFn[],
    s: PluginSlot[],
    point: CallTarget,
    fin: typeof finish,
    par: typeof parallel,
    check: typeof checkCallOptions,
    overrun: typeof checkOverrun,
    refuse: typeof refusal,
    abortable: AbortableCaller,
  ) => AsyncCaller;
  return factory(fns, slots, p, finish, parallel, checkCallOptions, checkOverrun, refusal, abortable);
}
