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
  enabled: boolean;
  /** Set by the first call of any kind. */
  called: boolean;
  /** Per-plugin timing, when switched on. */
  profiling: boolean;
  /** Registered plugins in call order. */
  readonly live: PluginSlot[];
  /** Call counts of the compiled sync callers, not yet added to their plugins' `ok`. */
  readonly tallies: Tally[];
}

/** Points with more plugins than this use a loop rather than generated code. */
export const GENERATED_MAX = 32;

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
