/**
 * The registry's records of one extension point and of each plugin that ever plugged into it. Flags and
 * counters live here, keyed as in the origin ((fn, module, node) for a plugin, (fn, module, node) for a
 * point), so they outlive a plugin's removal and resume if it comes back.
 */
import { extensionName, pluginName } from '../core/naming.js';
import { installStubs } from './dispatch.js';
import { orderPlugins } from './order.js';
import { PluginSlot, type Tally } from './slot.js';
import type { CallTarget, Dispatchers } from './target.js';

/** One extension point: its flag, whether it is declared or was called, and its plugins in call order. */
export class PointState implements CallTarget {
  readonly fn: string;
  readonly pluginFn: string;
  enabled = true;
  /** The module that declares the point with an `_Extension` export, or null. */
  declaredBy: string | null = null;
  /** Set by the first call; a point shows in the report once declared or called. */
  called = false;
  /** Every plugin key that ever plugged in, by `module + '\0' + node`. */
  readonly slots = new Map<string, PluginSlot<PointState>>();
  /** Registered plugins in call order; null after a change until next needed. */
  private ordered: PluginSlot<PointState>[] | null = [];
  /** Per-plugin timing, when switched on (see `profile`). */
  profiling = false;
  /** Call counts of the compiled sync callers, not yet added to their plugins' `ok` (see `Tally`). */
  readonly tallies: Tally[] = [];
  /** Calls of this point running plugins on the stack right now. */
  depth = 0;
  /** Calls of this point waiting on an async plugin right now. */
  inFlight = 0;

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
  slot(pluginModule: string, node: string): PluginSlot<PointState> {
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
  get live(): PluginSlot<PointState>[] {
    if (this.ordered === null) {
      const registered: PluginSlot<PointState>[] = [];
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
