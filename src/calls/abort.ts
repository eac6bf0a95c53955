/**
 * Calls given a `signal` (`call` and `pipe` with `{ signal }`): a caller of their own, chosen only when
 * the options carry a signal, so the compiled callers of every other call stay as they are.
 *
 * Each plugin gets `{ signal }` (frozen, one per call) as its second argument. The signal is read before
 * each plugin starts and listened to while a plugin's promise is awaited: once it is aborted, the plugin
 * being awaited and every plugin not yet started yield `EXIT` with an `EABORT` error (whose `cause` is the
 * signal's `reason`), each counted as an exit, and the call resolves at once. A plugin's late outcome
 * changes nothing (and a late rejection is never unhandled). A plugin that already returned keeps its
 * result: synchronous code cannot be interrupted in-process.
 */
import type { CallOptions, PipeOptions, PluginContext, PluginResult } from '../core/types.js';
import type { PluginFn, PluginSlot } from './slot.js';
import { isThenable, overloaded, refusal, type CallTarget } from './target.js';
import { bookOk, bookStepExit, checkOverrun, follow, timeoutError, type Outcome } from './outcome.js';
import { EABORT, ExtpointError } from '../core/errors.js';
import { HALT } from '../core/halt.js';
import { describe } from '../core/naming.js';

/** Rejects a `signal` option that is not an AbortSignal. */
export function checkSignal(signal: unknown): void {
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      `extpoint: option signal must be an AbortSignal (new AbortController().signal, AbortSignal.timeout(ms)), not ${describe(signal)}`,
    );
  }
}

/** The `EXIT` reason of a plugin cut off by an aborted signal; its `cause` is the signal's reason. */
export function abortError(slot: PluginSlot, signal: AbortSignal): ExtpointError<typeof EABORT> {
  return new ExtpointError(EABORT, `plugin ${slot.info.module}.${slot.info.fn} was cut off: the call's signal was aborted`, {
    cause: signal.reason,
  });
}

const ignore = () => {};

/** What `waitFor` gives when the signal aborted first. */
const ABORTED = Symbol('aborted');

/**
 * Waits for one plugin's thenable until it settles, `timeoutMs` passes (counted from `startedAt`) or the
 * signal aborts, whichever comes first; listens to the signal only meanwhile. Never rejects.
 */
function waitFor(
  slot: PluginSlot,
  value: PromiseLike<unknown>,
  timeoutMs: number | undefined,
  startedAt: number,
  signal: AbortSignal,
): Promise<Outcome | typeof ABORTED> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      // the plugin aborted the signal itself before returning its promise: no event will come. Followed
      // all the same, so that a late rejection is handled.
      follow(value, ignore, ignore);
      resolve(ABORTED);
      return;
    }
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = (o: Outcome | typeof ABORTED) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const onAbort = () => end(ABORTED);
    signal.addEventListener('abort', onAbort);
    if (timeoutMs !== undefined) {
      const left = Math.max(0, timeoutMs - (performance.now() - startedAt));
      timer = setTimeout(() => end({ ok: false, reason: timeoutError(slot, timeoutMs) }), left);
    }
    follow(
      value,
      (v) => end({ ok: true, value: v }),
      (e) => end({ ok: false, reason: e }),
    );
  });
}

export type AbortableCaller = (args: unknown, opts: CallOptions) => Promise<PluginResult[]>;

/** The caller of `call(args, { signal, ... })` for `slots` (non-empty, in call order) of point `p`. */
export function compileAbortableCall(p: CallTarget, slots: PluginSlot[], fns: PluginFn[]): AbortableCaller {
  const n = slots.length;
  const profiling = p.profiling;

  /** Every plugin from `from` on: `EXIT` `EABORT`, without running. */
  function abortFrom(out: PluginResult[], from: number, signal: AbortSignal): void {
    for (let i = from; i < n; i++) out[i] = slots[i]!.fail(abortError(slots[i]!, signal));
  }

  /** One after another, as `finish` in async.ts, with the signal read before each plugin and heard while waiting. */
  async function sequential(args: unknown, context: PluginContext, timeoutMs: number | undefined): Promise<PluginResult[]> {
    const signal = context.signal;
    const clocked = profiling || timeoutMs !== undefined;
    const out = new Array<PluginResult>(n);
    for (let i = 0; i < n; i++) {
      if (signal.aborted) {
        abortFrom(out, i, signal);
        break;
      }
      const s = slots[i]!;
      const t0 = clocked ? performance.now() : 0;
      let d: unknown;
      try {
        d = fns[i]!.call(undefined, args, context);
        if (isThenable(d)) {
          p.inFlight++;
          let o: Outcome | typeof ABORTED;
          try {
            o = await waitFor(s, d, timeoutMs, t0, signal);
          } finally {
            p.inFlight--;
          }
          if (o === ABORTED) {
            if (profiling) s.timed(performance.now() - t0);
            abortFrom(out, i, signal);
            break;
          }
          if (!o.ok) throw o.reason;
          d = o.value;
        }
      } catch (e) {
        out[i] = s.fail(e);
        if (profiling) s.timed(performance.now() - t0);
        continue;
      }
      out[i] = { state: 'ok', info: s.info, data: d };
      bookOk(s, t0, profiling, timeoutMs);
    }
    return out;
  }

  /**
   * All at once, as `startAll` in async.ts. One abort listener per call (not one per plugin: a signal warns
   * past ten listeners) ends every plugin still awaited.
   */
  function parallel(args: unknown, context: PluginContext, timeoutMs: number | undefined): Promise<PluginResult[]> {
    const signal = context.signal;
    const out = new Array<PluginResult>(n);
    return new Promise((resolve) => {
      // per plugin still awaited: when it was called, and its timer; null once it has an entry
      const open = new Array<{ t0: number; timer: ReturnType<typeof setTimeout> | undefined } | null>(n).fill(null);
      let waiting = 0;
      let listening = false;
      const end = () => {
        if (listening) {
          signal.removeEventListener('abort', onAbort);
          p.inFlight--;
        }
        resolve(out);
      };
      const settle = (i: number, outcome: Outcome) => {
        const w = open[i];
        if (w == null) return;
        open[i] = null;
        if (w.timer !== undefined) clearTimeout(w.timer);
        const s = slots[i]!;
        if (outcome.ok) {
          s.ok++;
          out[i] = { state: 'ok', info: s.info, data: outcome.value };
          if (timeoutMs !== undefined) checkOverrun(s, w.t0, timeoutMs);
        } else out[i] = s.fail(outcome.reason);
        if (profiling) s.timed(performance.now() - w.t0);
        // a thenable may call back while the rest are still being started: the call ends after them
        if (--waiting === 0 && !starting) end();
      };
      const onAbort = () => {
        for (let i = 0; i < n; i++) {
          const w = open[i];
          if (w == null) continue;
          open[i] = null;
          if (w.timer !== undefined) clearTimeout(w.timer);
          out[i] = slots[i]!.fail(abortError(slots[i]!, signal));
          if (profiling) slots[i]!.timed(performance.now() - w.t0);
        }
        waiting = 0;
        end();
      };
      let started = 0;
      let starting = true;
      p.depth++;
      try {
        for (; started < n && !signal.aborted; started++) {
          const i = started;
          const s = slots[i]!;
          const t0 = performance.now();
          try {
            const d = fns[i]!.call(undefined, args, context);
            if (isThenable(d)) {
              const w = { t0, timer: undefined as ReturnType<typeof setTimeout> | undefined };
              open[i] = w;
              waiting++;
              if (timeoutMs !== undefined) {
                w.timer = setTimeout(() => settle(i, { ok: false, reason: timeoutError(s, timeoutMs) }), timeoutMs);
              }
              follow(
                d,
                (value) => settle(i, { ok: true, value }),
                (reason) => settle(i, { ok: false, reason }),
              );
              continue;
            }
            s.ok++;
            out[i] = { state: 'ok', info: s.info, data: d };
            if (timeoutMs !== undefined) checkOverrun(s, t0, timeoutMs);
          } catch (e) {
            out[i] = s.fail(e);
          }
          if (profiling) s.timed(performance.now() - t0);
        }
      } finally {
        p.depth--;
        starting = false;
      }
      // a plugin aborted the signal itself: the rest do not start, the awaited ones end now
      if (signal.aborted) {
        abortFrom(out, started, signal);
        onAbort();
        return;
      }
      if (waiting === 0) return end();
      listening = true;
      p.inFlight++;
      signal.addEventListener('abort', onAbort);
    });
  }

  return (args, opts) => {
    const signal = opts.signal!;
    if (overloaded(p)) throw refusal(p, slots);
    if (signal.aborted) {
      const out = new Array<PluginResult>(n);
      abortFrom(out, 0, signal);
      return Promise.resolve(out);
    }
    const context: PluginContext = Object.freeze({ signal });
    if (opts.parallel === true) return parallel(args, context, opts.timeoutMs);
    p.depth++;
    try {
      return sequential(args, context, opts.timeoutMs);
    } finally {
      p.depth--;
    }
  };
}

export type AbortablePipe = (input: unknown, opts: PipeOptions) => Promise<unknown>;

/** How pipe.ts shapes a chain's outcome (`pipeOutcome`), handed down so that this file does not import it. */
export type PipeOutcome = (input: unknown, result: unknown, opts: PipeOptions | undefined, last: PluginSlot) => unknown;

/**
 * The caller of `pipe(state, { signal, ... })`. Aborting fails the chain as a timeout does: the step being
 * awaited, or the next to run, records an `EABORT` exit, later steps do not run, and the input comes back.
 */
export function compileAbortablePipe(p: CallTarget, slots: PluginSlot[], fns: PluginFn[], outcome: PipeOutcome): AbortablePipe {
  const n = slots.length;
  const profiling = p.profiling;

  async function run(input: unknown, opts: PipeOptions): Promise<unknown> {
    const signal = opts.signal!;
    const timeoutMs = opts.timeoutMs;
    const clocked = profiling || timeoutMs !== undefined;
    const context: PluginContext = Object.freeze({ signal });
    let state = input;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      if (signal.aborted) {
        s.recordExit(abortError(s, signal));
        return input;
      }
      const t0 = clocked ? performance.now() : 0;
      let d: unknown;
      let halted = false;
      try {
        d = fns[i]!.call(undefined, state, context);
        if (isThenable(d)) {
          p.inFlight++;
          let o: Outcome | typeof ABORTED;
          try {
            o = await waitFor(s, d, timeoutMs, t0, signal);
          } finally {
            p.inFlight--;
          }
          if (o === ABORTED) throw abortError(s, signal);
          if (!o.ok) throw o.reason;
          d = o.value;
        }
        // reading the step's value happens in its try: a hostile value fails this step
        halted = d !== null && typeof d === 'object' && HALT in d;
        if (halted) d = (d as { [HALT]: unknown })[HALT];
      } catch (e) {
        bookStepExit(s, e, t0, profiling);
        return input;
      }
      bookOk(s, t0, profiling, timeoutMs);
      if (halted) return outcome(input, d, opts, s);
      state = d;
    }
    return outcome(input, state, opts, slots[n - 1]!);
  }

  return (input, opts) => {
    if (overloaded(p)) throw refusal(p, slots);
    p.depth++;
    try {
      return run(input, opts);
    } finally {
      p.depth--;
    }
  };
}
