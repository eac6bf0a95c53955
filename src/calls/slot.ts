/**
 * One plugin's place on a point: its flag, counters and recent exits, kept under the origin's key
 * (fn, module, node) so that they outlive the plugin's removal, and its code while a module offers it.
 */
import { Ring, type ExitRecord, EXITS_KEPT } from '../core/history.js';
import type { PluginContext, PluginInfo, PluginResult } from '../core/types.js';
import type { PluginMeta } from '../core/metadata.js';

/** What a slot needs of the point it belongs to. */
export interface SlotOwner {
  /** The export name of the point's plugins. */
  readonly pluginFn: string;
}

/** Per-plugin timing of a profiled point, in milliseconds. */
export interface PluginProfile {
  count: number;
  totalMs: number;
  maxMs: number;
  lastMs: number;
  /** Calls in which the plugin's result came in after the call's `timeoutMs` and was kept (see `overran`). */
  slow: number;
}

/** The last time a plugin's result came in after its call's `timeoutMs`. */
export interface Overrun {
  /** How long the plugin took, in milliseconds. */
  ms: number;
  /** The call's `timeoutMs`. */
  timeoutMs: number;
  at: Date;
}

/**
 * One call counter for a compiled sync caller: one increment per call instead of one per plugin. Every
 * plugin of that caller is counted ok for each call, and a plugin that fails takes its ok back, so
 * `ok = settled ok + calls not yet settled`. The point settles tallies before counters are read.
 */
export interface Tally {
  calls: number;
  readonly slots: PluginSlot[];
}

/** A plugin function as the dispatchers call it; a call given a `signal` passes the context too. */
export type PluginFn = (args: unknown, context?: PluginContext) => unknown;

/** One plugin key of a point: its flag, counters and recent exits, and its code while it is registered. */
export class PluginSlot<P extends SlotOwner = SlotOwner> {
  /** Shared by every result of this plugin; frozen so that no caller can change another's. */
  readonly info: PluginInfo;
  enabled = true;
  ok = 0;
  exit = 0;
  /** The 10 most recent exits, created on the first one. */
  exits: Ring<ExitRecord> | null = null;
  /** The plugin's code; null while no module offers it. */
  impl: PluginFn | null = null;
  /** Priority and dependencies of the registered version. */
  meta: PluginMeta | null = null;
  /** The dependency that keeps this plugin from running, or null when it may run. */
  heldBy: string | null = null;
  /** Call timings while the point is profiled. */
  profile: PluginProfile | null = null;
  /** Results that came in after their call's `timeoutMs` and were kept, and the last of them. */
  slow = 0;
  lastSlow: Overrun | null = null;

  constructor(
    readonly point: P,
    module: string,
    node: string,
  ) {
    this.info = Object.freeze({ node, module, fn: point.pluginFn });
  }

  /** Counts a failure, remembers its reason, and returns the `EXIT` result. */
  fail(reason: unknown): PluginResult {
    this.recordExit(reason);
    return { state: 'EXIT', info: this.info, data: reason };
  }

  recordExit(reason: unknown): void {
    const n = ++this.exit;
    (this.exits ??= new Ring<ExitRecord>(EXITS_KEPT)).push({ n, reason, at: new Date() });
  }

  /** Adds one call's duration to the profile. */
  timed(ms: number): void {
    const p = (this.profile ??= { count: 0, totalMs: 0, maxMs: 0, lastMs: 0, slow: 0 });
    p.count++;
    p.totalMs += ms;
    if (ms > p.maxMs) p.maxMs = ms;
    p.lastMs = ms;
  }

  /**
   * Counts a result that came in `ms` after the plugin was called, past the call's `timeoutMs`, and was
   * kept: a sync plugin cannot be cut off, so its value is its result, and it counts as slow.
   */
  overran(ms: number, timeoutMs: number): void {
    this.slow++;
    this.lastSlow = { ms, timeoutMs, at: new Date() };
    if (this.profile !== null) this.profile.slow++;
  }

  /** True while the plugin is registered, enabled and not held: the dispatchers call exactly these. */
  get runnable(): boolean {
    return this.impl !== null && this.enabled && this.heldBy === null;
  }
}
