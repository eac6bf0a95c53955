/**
 * Following what a plugin returned to its outcome, whatever it returned.
 *
 * A native promise is followed with its own `then`. Any other thenable is followed here rather than
 * handed to a native promise: a promise that adopts a thenable which resolves with itself (or with an
 * endless chain of fresh thenables) loops in microtasks forever and starves the event loop, timers and
 * timeouts included. Here each `then` is read once and called inside a try, its callbacks count only
 * once, a thenable that resolves with itself fails with a TypeError, and a chain of more than
 * ADOPTIONS_MAX thenables fails with a RangeError. Every failure goes to `onReason`: a hostile value is
 * its plugin's EXIT, never a throw out of the caller.
 */
import type { PluginSlot } from './slot.js';
import { ETIMEOUT, ExtpointError } from '../core/errors.js';

/** The `then` of native promises (and of subclasses that keep it). */
export const nativeThen = Promise.prototype.then;

/** How many thenables resolving with thenables are followed before the chain counts as endless. */
export const ADOPTIONS_MAX = 100;

type OnValue = (value: unknown) => void;
type OnReason = (reason: unknown) => void;

/**
 * Calls `onValue` with what `value` settles to, or `onReason` with why it fails: exactly one of them,
 * at most once, never synchronously for a thenable that is not a native promise.
 */
export function follow(value: PromiseLike<unknown>, onValue: OnValue, onReason: OnReason): void {
  let then: unknown;
  try {
    then = value.then;
    if (then === nativeThen) {
      // a native promise calls back once, later; a Proxy or a foreign receiver makes this throw
      nativeThen.call(value, onValue, onReason);
      return;
    }
  } catch (err) {
    onReason(err);
    return;
  }
  if (typeof then !== 'function') {
    onValue(value);
    return;
  }
  let settled = false;
  const once = (fn: (v: unknown) => void) => (v: unknown) => {
    if (settled) return;
    settled = true;
    fn(v);
  };
  adopt(value, then, once(onValue), once(onReason), 0);
}

/** Calls a foreign thenable's `then` in a microtask, as a promise would, and follows what it resolves with. */
function adopt(thenable: unknown, then: Function, onValue: OnValue, onReason: OnReason, depth: number): void {
  queueMicrotask(() => {
    let called = false;
    try {
      then.call(
        thenable,
        (v: unknown) => {
          if (called) return;
          called = true;
          resolveWith(thenable, v, onValue, onReason, depth);
        },
        (e: unknown) => {
          if (called) return;
          called = true;
          onReason(e);
        },
      );
    } catch (err) {
      if (!called) {
        called = true;
        onReason(err);
      }
    }
  });
}

/** What a thenable resolved with: a plain value settles, another thenable is followed in turn. */
function resolveWith(from: unknown, v: unknown, onValue: OnValue, onReason: OnReason, depth: number): void {
  if (v === from) {
    onReason(new TypeError('a thenable resolved with itself, so it can never settle'));
    return;
  }
  let then: unknown;
  try {
    then = v !== null && (typeof v === 'object' || typeof v === 'function') ? (v as { then?: unknown }).then : undefined;
  } catch (err) {
    onReason(err);
    return;
  }
  if (typeof then !== 'function') {
    onValue(v);
    return;
  }
  if (depth + 1 >= ADOPTIONS_MAX) {
    onReason(new RangeError(`a thenable resolved with ${ADOPTIONS_MAX} thenables in a row; such a chain is taken as endless`));
    return;
  }
  if (then === nativeThen) {
    try {
      nativeThen.call(v, onValue, onReason);
    } catch (err) {
      onReason(err);
    }
    return;
  }
  adopt(v, then, onValue, onReason, depth + 1);
}

export function timeoutError(slot: PluginSlot, ms: number): Error {
  return new ExtpointError(ETIMEOUT, `plugin ${slot.info.module}.${slot.info.fn} did not settle within ${ms} ms`);
}

/**
 * As `follow`, with a deadline: past `timeoutMs` (counted from `startedAt`, when the plugin was called)
 * `onReason` gets an `ETIMEOUT` error, and a late outcome changes nothing.
 */
export function followTimed(
  slot: PluginSlot,
  value: PromiseLike<unknown>,
  timeoutMs: number | undefined,
  startedAt: number,
  onValue: OnValue,
  onReason: OnReason,
): void {
  if (timeoutMs === undefined) {
    follow(value, onValue, onReason);
    return;
  }
  let settled = false;
  const timer = setTimeout(
    () => {
      if (settled) return;
      settled = true;
      onReason(timeoutError(slot, timeoutMs));
    },
    Math.max(0, timeoutMs - (performance.now() - startedAt)),
  );
  follow(
    value,
    (v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onValue(v);
    },
    (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onReason(e);
    },
  );
}

/**
 * After a plugin called at `startedAt` came back `ok` in a call with `timeoutMs`: counts it as slow if it
 * took longer. A sync plugin cannot be cut off in-process, so its value stays its result; so does a
 * promise that settled before the timer could fire (the thread was busy in the plugin meanwhile).
 */
export function checkOverrun(slot: PluginSlot, startedAt: number, timeoutMs: number): void {
  const ms = performance.now() - startedAt;
  if (ms > timeoutMs) slot.overran(ms, timeoutMs);
}

/**
 * What the loop callers (profiled and large points, crossings, signals) book for a plugin run that ended
 * well: one more ok, its time when the point is profiled, and an overrun past `timeoutMs`.
 */
export function bookOk(slot: PluginSlot, startedAt: number, profiling: boolean, timeoutMs: number | undefined): void {
  slot.ok++;
  if (profiling) slot.timed(performance.now() - startedAt);
  if (timeoutMs !== undefined) checkOverrun(slot, startedAt, timeoutMs);
}

/** What the pipe loops book for a step that failed: its exit and, when profiled, its time. */
export function bookStepExit(slot: PluginSlot, reason: unknown, startedAt: number, profiling: boolean): void {
  slot.recordExit(reason);
  if (profiling) slot.timed(performance.now() - startedAt);
}

/** One plugin's settled outcome, for callers that await it. */
export type Outcome = { ok: true; value: unknown } | { ok: false; reason: unknown };

/** `followTimed` as a promise of an `Outcome`: it never rejects, and never adopts the plugin's value. */
export function outcomeOf(
  slot: PluginSlot,
  value: PromiseLike<unknown>,
  timeoutMs: number | undefined,
  startedAt: number,
): Promise<Outcome> {
  return new Promise((resolve) => {
    followTimed(
      slot,
      value,
      timeoutMs,
      startedAt,
      (v) => resolve({ ok: true, value: v }),
      (e) => resolve({ ok: false, reason: e }),
    );
  });
}
