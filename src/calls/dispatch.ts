/**
 * Per-point callers, compiled from the registry's state of that point and dropped whenever it changes.
 *
 * A point's dispatchers start as stubs; the first call of each compiles it and installs the compiled one
 * in its place, so a registry change costs nothing until the point is called again, and a call does no
 * lookup of flags or plugins: they are baked into the compiled code. A compiled caller keeps the plugin
 * functions it was built with, so a call in flight finishes on the versions it started with.
 *
 * Sync callers of up to GENERATED_MAX plugins are generated straight-line code with a try/catch per
 * plugin (one call site per plugin, which V8 can inline); larger points and profiled ones use a loop.
 */
import type { PointState, PluginSlot, PluginFn, Tally } from './point.js';
import type { CallOptions, PluginResult } from '../core/types.js';
import { HALT } from '../core/halt.js';

/** Options of `pipe`. */
export interface PipeOptions {
  /** Merged into the chain's own object result (its keys win); never seen by plugins. */
  private?: Record<string, unknown>;
  /** Run the chain, then return the original input. */
  returnInput?: boolean;
  /** As for `callPlugins`: a plugin that has not settled by then fails the chain. */
  timeoutMs?: number;
}

export interface Dispatchers {
  callSync(args: unknown): PluginResult[];
  notify(args: unknown): void;
  call(args: unknown, opts?: CallOptions): Promise<PluginResult[]>;
  pipe(state: unknown, opts?: PipeOptions): Promise<unknown>;
}

/** Points with more plugins than this use a loop rather than generated code. */
export const GENERATED_MAX = 32;

/** Resets a point's dispatchers to stubs that compile on first use and mark the point as called. */
export function installStubs(p: PointState): void {
  p.callSync = (args) => {
    p.called = true;
    return (p.callSync = compileSync(p))(args);
  };
  p.notify = (args) => {
    p.called = true;
    (p.notify = compileNotify(p))(args);
  };
  p.call = (args, opts) => {
    p.called = true;
    return (p.call = compileCall(p))(args, opts);
  };
  p.pipe = (state, opts) => {
    p.called = true;
    return (p.pipe = compilePipe(p))(state, opts);
  };
}

/** The plugins a call runs right now: registered, enabled, not held, in order; none if the point is off. */
function runnable(p: PointState): PluginSlot[] {
  return p.enabled ? p.live.filter((s) => s.runnable) : [];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A thenable handed to a sync caller: an `EASYNC` exit, and its outcome silenced. */
function asyncInSync(slot: PluginSlot, value: PromiseLike<unknown>): PluginResult {
  try {
    value.then(undefined, () => {});
  } catch {
    // a thenable whose then throws has nothing left to silence
  }
  const err = Object.assign(
    new Error(
      `plugin ${slot.info.module}.${slot.info.fn} returned a promise to a synchronous call; ` +
        'call the point with callPlugins (or point().call) to await async plugins',
    ),
    { code: 'EASYNC' },
  );
  return slot.fail(err);
}

// ---------------------------------------------------------------------------------------------------
// Synchronous callers

type SyncCaller = (args: unknown) => PluginResult[];
type Notifier = (args: unknown) => void;

const noResults: SyncCaller = () => [];
const noop: Notifier = () => {};

function compileSync(p: PointState): SyncCaller {
  const slots = runnable(p);
  if (slots.length === 0) return noResults;
  if (p.profiling || slots.length > GENERATED_MAX) return loopSync(slots, p.profiling);
  return generate(p, slots, 'results') as SyncCaller;
}

function compileNotify(p: PointState): Notifier {
  const slots = runnable(p);
  if (slots.length === 0) return noop;
  if (p.profiling || slots.length > GENERATED_MAX) {
    const call = loopSync(slots, p.profiling);
    return (args) => void call(args);
  }
  return generate(p, slots, 'notify') as Notifier;
}

/**
 * Straight-line code for a few plugins: `f0..fn` are the plugin functions, `s0..sn` their slots, `i0..in`
 * their shared infos, `T` the caller's tally (one count per call; a failing plugin takes its ok back).
 * With `results` it returns one result per plugin; with `notify`, nothing.
 */
function generate(p: PointState, slots: PluginSlot[], mode: 'results' | 'notify'): SyncCaller | Notifier {
  const n = slots.length;
  const tally: Tally = { calls: 0, slots };
  p.tallies.push(tally);
  const bind: string[] = [];
  const body: string[] = ['T.calls++;'];
  const thenable = `d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d.then === 'function'`;
  for (let i = 0; i < n; i++) {
    bind.push(`f${i} = F[${i}], s${i} = S[${i}], i${i} = s${i}.info`);
    if (mode === 'results') {
      body.push(
        `let r${i}; try { const d = f${i}(args); if (${thenable}) { s${i}.ok--; r${i} = asyncInSync(s${i}, d); } ` +
          `else r${i} = { state: 'ok', info: i${i}, data: d }; } catch (e) { s${i}.ok--; r${i} = s${i}.fail(e); }`,
      );
    } else {
      body.push(
        `try { const d = f${i}(args); if (${thenable}) { s${i}.ok--; asyncInSync(s${i}, d); } } ` +
          `catch (e) { s${i}.ok--; s${i}.recordExit(e); }`,
      );
    }
  }
  if (mode === 'results') body.push(`return [${slots.map((_, i) => `r${i}`).join(', ')}];`);
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function dispatch(args) {\n${body.join('\n')}\n};`;
  const factory = new Function('F', 'S', 'T', 'asyncInSync', source) as (
    fns: PluginFn[],
    slots: PluginSlot[],
    tally: Tally,
    asyncInSync: (slot: PluginSlot, value: PromiseLike<unknown>) => PluginResult,
  ) => SyncCaller | Notifier;
  return factory(
    slots.map((s) => s.impl as PluginFn),
    slots,
    tally,
    asyncInSync,
  );
}

function loopSync(slots: PluginSlot[], profiling: boolean): SyncCaller {
  const fns = slots.map((s) => s.impl as PluginFn);
  const n = slots.length;
  return (args) => {
    const out = new Array<PluginResult>(n);
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const t0 = profiling ? performance.now() : 0;
      try {
        const d = fns[i]!.call(undefined, args);
        if (isThenable(d)) out[i] = asyncInSync(s, d);
        else {
          s.ok++;
          out[i] = { state: 'ok', info: s.info, data: d };
        }
      } catch (e) {
        out[i] = s.fail(e);
      }
      if (profiling) s.timed(performance.now() - t0);
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------------
// Asynchronous callers: plugins that return plain values cost no promise; the first thenable switches
// the rest of the call to awaiting.

type AsyncCaller = (args: unknown, opts?: CallOptions) => Promise<PluginResult[]>;

const noResultsAsync: AsyncCaller = (_args, opts) => {
  if (opts !== undefined) checkCallOptions(opts);
  return Promise.resolve([]);
};

/** Rejects bad options with a TypeError that says what is wrong. */
export function checkCallOptions(opts: CallOptions | PipeOptions): void {
  if (opts === null || typeof opts !== 'object') {
    throw new TypeError(`extpoint: call options must be an object, not ${opts === null ? 'null' : typeof opts}`);
  }
  const t = opts.timeoutMs;
  if (t !== undefined && !(typeof t === 'number' && t > 0 && t <= 2_147_483_647)) {
    throw new TypeError(
      `extpoint: timeoutMs must be a number of milliseconds from 1 to 2147483647, not ${String(t)}`,
    );
  }
}

function timeoutError(slot: PluginSlot, ms: number): Error {
  return Object.assign(
    new Error(`plugin ${slot.info.module}.${slot.info.fn} did not settle within ${ms} ms`),
    { code: 'ETIMEOUT' },
  );
}

/**
 * Waits for one plugin's thenable: `ok` with its value, `EXIT` with its rejection or, past `timeoutMs`
 * (counted from `startedAt`, when the plugin was called), with an `ETIMEOUT` error. A late outcome
 * changes nothing.
 */
function settle(
  slot: PluginSlot,
  value: PromiseLike<unknown>,
  timeoutMs: number | undefined,
  startedAt: number,
): Promise<PluginResult> {
  return awaitPlugin(slot, value, timeoutMs, startedAt).then(
    (data): PluginResult => {
      slot.ok++;
      return { state: 'ok', info: slot.info, data };
    },
    (reason) => slot.fail(reason),
  );
}

/** The thenable's value, or its rejection, or an ETIMEOUT rejection when the clock runs out first. */
function awaitPlugin(
  slot: PluginSlot,
  value: PromiseLike<unknown>,
  timeoutMs: number | undefined,
  startedAt: number,
): Promise<unknown> {
  if (timeoutMs === undefined) return Promise.resolve(value);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(timeoutError(slot, timeoutMs)),
      Math.max(0, timeoutMs - (performance.now() - startedAt)),
    );
    const done = (settleWith: (v: unknown) => void) => (v: unknown) => {
      clearTimeout(timer);
      settleWith(v);
    };
    try {
      value.then(done(resolve), done(reject));
    } catch (err) {
      done(reject)(err);
    }
  });
}

/** The `then` of native promises (and of subclasses that keep it). */
const nativeThen = Promise.prototype.then;

function compileCall(p: PointState): AsyncCaller {
  const slots = runnable(p);
  if (slots.length === 0) return noResultsAsync;
  const fns = slots.map((s) => s.impl as PluginFn);
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
    return new Promise<PluginResult[]>((resolve) => {
      const clocked = profiling || timeoutMs !== undefined;
      let i = from;
      let t0 = startedAt;
      const onValue = (value: unknown) => {
        const s = slots[i]!;
        s.ok++;
        out[i] = { state: 'ok', info: s.info, data: value };
        if (profiling) s.timed(performance.now() - t0);
        next();
      };
      const onReason = (reason: unknown) => {
        const s = slots[i]!;
        out[i] = s.fail(reason);
        if (profiling) s.timed(performance.now() - t0);
        next();
      };
      // A native promise calls back once, later; any other thenable is adopted by one first, so that one
      // that calls back twice, both ways, at once, or throws, still counts once.
      const wait = (d: PromiseLike<unknown>) => {
        if (timeoutMs !== undefined) awaitPlugin(slots[i]!, d, timeoutMs, t0).then(onValue, onReason);
        else if (d.then === nativeThen) d.then(onValue, onReason);
        else Promise.resolve(d).then(onValue, onReason);
      };
      const next = () => {
        while (++i < n) {
          const s = slots[i]!;
          t0 = clocked ? performance.now() : 0;
          let d: unknown;
          try {
            d = fns[i]!.call(undefined, args);
          } catch (e) {
            out[i] = s.fail(e);
            if (profiling) s.timed(performance.now() - t0);
            continue;
          }
          if (isThenable(d)) return wait(d);
          s.ok++;
          out[i] = { state: 'ok', info: s.info, data: d };
          if (profiling) s.timed(performance.now() - t0);
        }
        resolve(out);
      };
      if (pending === null) next();
      else wait(pending);
    });
  }

  function parallel(args: unknown, timeoutMs: number | undefined): Promise<PluginResult[]> {
    const out = new Array<PluginResult | Promise<PluginResult>>(n);
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const t0 = performance.now();
      try {
        const d = fns[i]!.call(undefined, args);
        if (isThenable(d)) {
          const settled = settle(s, d, timeoutMs, t0);
          out[i] = profiling ? settled.finally(() => s.timed(performance.now() - t0)) : settled;
          continue;
        }
        s.ok++;
        out[i] = { state: 'ok', info: s.info, data: d };
      } catch (e) {
        out[i] = s.fail(e);
      }
      if (profiling) s.timed(performance.now() - t0);
    }
    return Promise.all(out);
  }

  if (!profiling && n <= GENERATED_MAX) return generateCall(slots, fns, finish, parallel);
  // Profiled and large points: the same continuation from the first plugin on.
  return (args, opts) => {
    let timeoutMs: number | undefined;
    if (opts !== undefined) {
      checkCallOptions(opts);
      timeoutMs = opts.timeoutMs;
      if (opts.parallel === true) return parallel(args, timeoutMs);
    }
    return finish(args, new Array<PluginResult>(n), -1, null, 0, timeoutMs);
  };
}

/**
 * The start of an async call as straight-line code: plugins that return plain values are handled as in
 * the sync caller; the first thenable hands the rest of the call to `finish`.
 */
function generateCall(
  slots: PluginSlot[],
  fns: PluginFn[],
  finish: (...a: [unknown, PluginResult[], number, PromiseLike<unknown> | null, number, number | undefined]) => Promise<PluginResult[]>,
  parallel: (args: unknown, timeoutMs: number | undefined) => Promise<PluginResult[]>,
): AsyncCaller {
  const n = slots.length;
  const bind: string[] = [];
  const body: string[] = [
    'let timeoutMs;',
    'if (opts !== undefined) { check(opts); timeoutMs = opts.timeoutMs; if (opts.parallel === true) return parallel(args, timeoutMs); }',
    `const out = new Array(${n});`,
    'let t0 = 0;',
  ];
  const thenable = `d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d.then === 'function'`;
  for (let i = 0; i < n; i++) {
    bind.push(`f${i} = F[${i}], s${i} = S[${i}], i${i} = s${i}.info`);
    body.push(
      `if (timeoutMs !== undefined) t0 = performance.now();`,
      `try { const d = f${i}(args); if (${thenable}) return finish(args, out, ${i}, d, t0, timeoutMs); ` +
        `s${i}.ok++; out[${i}] = { state: 'ok', info: i${i}, data: d }; } catch (e) { out[${i}] = s${i}.fail(e); }`,
    );
  }
  body.push('return Promise.resolve(out);');
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function call(args, opts) {\n${body.join('\n')}\n};`;
  const factory = new Function('F', 'S', 'finish', 'parallel', 'check', source) as (
    f: PluginFn[],
    s: PluginSlot[],
    fin: typeof finish,
    par: typeof parallel,
    check: typeof checkCallOptions,
  ) => AsyncCaller;
  return factory(fns, slots, finish, parallel, checkCallOptions);
}

// ---------------------------------------------------------------------------------------------------
// Pipelines: one state threaded through the chain, as MishkaInstaller's hooks do.

type PipeCaller = (state: unknown, opts?: PipeOptions) => Promise<unknown>;

function isHalt(value: unknown): value is { [HALT]: unknown } {
  return value !== null && typeof value === 'object' && HALT in value;
}

/** The chain's outcome, shaped by the options: the input untouched, or the result with `private` merged. */
function pipeOutcome(input: unknown, result: unknown, opts: PipeOptions | undefined): unknown {
  if (opts === undefined || result === input) return result;
  if (opts.returnInput === true) return input;
  const priv = opts.private;
  if (priv !== undefined && result !== null && typeof result === 'object' && !Array.isArray(result)) {
    return { ...(result as object), ...priv };
  }
  return result;
}

function compilePipe(p: PointState): PipeCaller {
  const slots = runnable(p);
  if (slots.length === 0) {
    return (state, opts) => {
      if (opts !== undefined) checkCallOptions(opts);
      return Promise.resolve(state);
    };
  }
  const fns = slots.map((s) => s.impl as PluginFn);
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
    for (let i = from; i < n; i++) {
      const s = slots[i]!;
      const t0 = i === from ? startedAt : clocked ? performance.now() : 0;
      let d: unknown;
      let halted = false;
      try {
        d = i === from ? pending : fns[i]!.call(undefined, state);
        if (isThenable(d)) d = await awaitPlugin(s, d, timeoutMs, t0);
        halted = isHalt(d);
        if (halted) d = (d as { [HALT]: unknown })[HALT];
      } catch (e) {
        s.recordExit(e);
        if (profiling) s.timed(performance.now() - t0);
        return input;
      }
      s.ok++;
      if (profiling) s.timed(performance.now() - t0);
      if (halted) return pipeOutcome(input, d, opts);
      state = d;
    }
    return pipeOutcome(input, state, opts);
  }

  if (!profiling && n <= GENERATED_MAX) return generatePipe(slots, fns, finish);

  return (input, opts) => {
    const clocked = profiling || (opts !== undefined && (checkCallOptions(opts), opts.timeoutMs !== undefined));
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
        s.recordExit(e);
        if (profiling) s.timed(performance.now() - t0);
        return Promise.resolve(input);
      }
      s.ok++;
      if (profiling) s.timed(performance.now() - t0);
      if (halted) return Promise.resolve(pipeOutcome(input, d, opts));
      state = d;
    }
    return Promise.resolve(pipeOutcome(input, state, opts));
  };
}

/** The sync part of a chain as straight-line code; the first thenable hands the rest to `finish`. */
function generatePipe(
  slots: PluginSlot[],
  fns: PluginFn[],
  finish: (input: unknown, from: number, pending: PromiseLike<unknown>, startedAt: number, opts: PipeOptions | undefined) => Promise<unknown>,
): PipeCaller {
  const bind: string[] = [];
  const body: string[] = [
    'const clocked = opts !== undefined && (check(opts), opts.timeoutMs !== undefined);',
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
      'if (halted) return Promise.resolve(outcome(input, d, opts));',
      'state = d;',
    );
  }
  body.push('return Promise.resolve(outcome(input, state, opts));');
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function pipe(input, opts) {\n${body.join('\n')}\n};`;
  const factory = new Function('F', 'S', 'H', 'finish', 'outcome', 'check', source) as (
    f: PluginFn[],
    s: PluginSlot[],
    h: typeof HALT,
    fin: typeof finish,
    outcome: typeof pipeOutcome,
    check: typeof checkCallOptions,
  ) => PipeCaller;
  return factory(fns, slots, HALT, finish, pipeOutcome, checkCallOptions);
}
