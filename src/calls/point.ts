/**
 * The registry's records of one extension point and of each plugin that ever plugged into it. Flags and
 * counters live here, keyed as in the origin ((fn, module, node) for a plugin, (fn, module, node) for a
 * point), so they outlive a plugin's removal and resume if it comes back.
 */
import { Ring, type ExitRecord, EXITS_KEPT } from '../core/history.js';
import { extensionName, pluginName } from '../core/naming.js';
import { installStubs, type Dispatchers } from './dispatch.js';
import { orderPlugins } from './order.js';
import type { PluginInfo, PluginResult } from '../core/types.js';
import type { PluginMeta } from '../core/metadata.js';

/** Per-plugin timing of a profiled point, in milliseconds. */
export interface PluginProfile {
  count: number;
  totalMs: number;
  maxMs: number;
  lastMs: number;
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

/** A plugin function as the dispatchers call it. */
export type PluginFn = (args: unknown) => unknown;

/** One plugin key of a point: its flag, counters and recent exits, and its code while it is registered. */
export class PluginSlot {
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

  constructor(
    readonly point: PointState,
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
    const p = (this.profile ??= { count: 0, totalMs: 0, maxMs: 0, lastMs: 0 });
    p.count++;
    p.totalMs += ms;
    if (ms > p.maxMs) p.maxMs = ms;
    p.lastMs = ms;
  }

  /** True while the plugin is registered, enabled and not held: the dispatchers call exactly these. */
  get runnable(): boolean {
    return this.impl !== null && this.enabled && this.heldBy === null;
  }
}

/** One extension point: its flag, whether it is declared or was called, and its plugins in call order. */
export class PointState implements Dispatchers {
  readonly fn: string;
  readonly pluginFn: string;
  enabled = true;
  /** The module that declares the point with an `_Extension` export, or null. */
  declaredBy: string | null = null;
  /** Set by the first call; a point shows in the report once declared or called. */
  called = false;
  /** Every plugin key that ever plugged in, by `module + '\0' + node`. */
  readonly slots = new Map<string, PluginSlot>();
  /** Registered plugins in call order; null after a change until next needed. */
  private ordered: PluginSlot[] | null = [];
  /** Per-plugin timing, when switched on (see `profile`). */
  profiling = false;
  /** Call counts of the compiled sync callers, not yet added to their plugins' `ok` (see `Tally`). */
  readonly tallies: Tally[] = [];

  declare callSync: Dispatchers['callSync'];
  declare notify: Dispatchers['notify'];
  declare call: Dispatchers['call'];
  declare pipe: Dispatchers['pipe'];

  constructor(
    readonly module: string,
    readonly point: string,
    readonly node: string,
  ) {
    this.fn = extensionName(module, point);
    this.pluginFn = pluginName(module, point);
    installStubs(this);
  }

  /** The slot of `pluginModule` on `node`, created on first use. */
  slot(pluginModule: string, node: string): PluginSlot {
    const key = pluginModule + '\0' + node;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = new PluginSlot(this, pluginModule, node);
      this.slots.set(key, slot);
    }
    return slot;
  }

  /**
   * Registered plugins in call order, computed when first needed after a change: loading many plugins
   * into one point orders them once, not once per plugin.
   */
  get live(): PluginSlot[] {
    if (this.ordered === null) {
      const registered: PluginSlot[] = [];
      for (const slot of this.slots.values()) if (slot.impl !== null) registered.push(slot);
      this.ordered = orderPlugins(registered);
    }
    return this.ordered;
  }

  /** Drops the call order and the compiled dispatchers; each is built anew from the current state when next needed. */
  invalidate(): void {
    this.ordered = null;
    this.settleTallies();
    this.tallies.length = 0;
    installStubs(this);
  }

  /** Adds the calls counted by the compiled sync callers to their plugins' `ok`, so counters read exact. */
  settleTallies(): void {
    for (const tally of this.tallies) {
      const calls = tally.calls;
      if (calls === 0) continue;
      tally.calls = 0;
      for (const slot of tally.slots) slot.ok += calls;
    }
  }

  /** Sums over every plugin key of this point, so a point's counts are derived, never kept twice. */
  totals(): { ok: number; exit: number } {
    this.settleTallies();
    let ok = 0;
    let exit = 0;
    for (const slot of this.slots.values()) {
      ok += slot.ok;
      exit += slot.exit;
    }
    return { ok, exit };
  }
}
