/**
 * What a compiled caller reads of its point, and what every kind of caller shares: the point's callers
 * (`Dispatchers`), the plugins a call runs right now, and how a returned value is recognised as a thenable.
 * Declared here, below the point, so that the callers never import the point they are compiled for.
 */
import type { CallOptions, PipeOptions, PluginResult } from '../core/types.js';
import type { PluginSlot, Tally } from './slot.js';

export interface Dispatchers {
  callSync(args: unknown): PluginResult[];
  notify(args: unknown): void;
  call(args: unknown, opts?: CallOptions): Promise<PluginResult[]>;
  pipe(state: unknown, opts?: PipeOptions): Promise<unknown>;
}

/** The part of a point that its compiled callers read and write. */
export interface CallTarget extends Dispatchers {
  /** The module that owns the point, the point's name and the node of its registry (for tracing). */
  readonly module: string;
  readonly point: string;
  readonly node: string;
  enabled: boolean;
  /** Set by the first call of any kind. */
  called: boolean;
  /** Per-plugin timing, when switched on. */
  profiling: boolean;
  /** Registered plugins in call order. */
  readonly live: PluginSlot[];
  /** Call counts of the compiled sync callers, not yet added to their plugins' `ok`. */
  readonly tallies: Tally[];
  /** How many calls of this point are running plugins on the stack right now (see `DEPTH_MAX`). */
  depth: number;
  /** How many calls of this point are waiting on an async plugin right now (see `FLIGHT_MAX`). */
  inFlight: number;
}

/** Points with more plugins than this use a loop rather than generated code. */
export const GENERATED_MAX = 32;

/**
 * How deep calls of one point may nest on the stack, a plugin calling the point it serves (directly or
 * through other points). One more throws `tooDeep`'s RangeError into the plugin that made the call, well
 * before the engine's own stack overflow could strike inside the callers' bookkeeping.
 */
export const DEPTH_MAX = 200;

/** The error a call nested deeper than DEPTH_MAX throws, naming the point's plugin export. */
export function tooDeep(slots: readonly PluginSlot[]): RangeError {
  const fn = slots.length > 0 ? slots[0]!.info.fn : 'a point';
  return new RangeError(
    `extpoint: calls of ${fn} nested ${DEPTH_MAX} deep: a plugin calls the point it serves, directly or ` +
      'through other points; end the recursion in the plugin',
  );
}

/**
 * How many calls of one point may wait on async plugins at once. A plugin that awaits something and then
 * calls the point it serves recurses without growing the stack: each level waits on the next, in
 * microtasks that never let a timer run, until the heap runs out. Past this many (about 8 MB of waiting
 * calls), a new call of the point throws a RangeError into whoever made it, and the chain unwinds.
 */
export const FLIGHT_MAX = 10_000;

/** True when a call of the point must be refused (see DEPTH_MAX and FLIGHT_MAX). */
export function overloaded(p: CallTarget): boolean {
  return p.depth >= DEPTH_MAX || p.inFlight >= FLIGHT_MAX;
}

/** Why a call of an overloaded point is refused, naming the point's plugin export and the fix. */
export function refusal(p: CallTarget, slots: readonly PluginSlot[]): RangeError {
  if (p.depth >= DEPTH_MAX) return tooDeep(slots);
  const fn = slots.length > 0 ? slots[0]!.info.fn : 'a point';
  return new RangeError(
    `extpoint: ${FLIGHT_MAX} calls of ${fn} are waiting on async plugins at once: a plugin probably awaits ` +
      'a call of the point it serves; end the recursion in the plugin',
  );
}

/** The plugins a call runs right now: registered, enabled, not held, in order; none if the point is off. */
export function runnable(p: CallTarget): PluginSlot[] {
  return p.enabled ? p.live.filter((s) => s.runnable) : [];
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
