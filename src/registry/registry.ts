/**
 * The registry: the one source of truth for modules, extension points, plugins, flags and counters.
 * Everything else (dispatch, report, dependencies) is derived from it. A change touches only the points
 * it concerns, and drops their compiled dispatchers; the next call compiles them anew.
 */
import { PointState } from '../calls/point.js';
import { PointIndex } from './point-index.js';
import type { PluginSlot } from '../calls/slot.js';
import { assertCallNames, describe, isModuleName } from '../core/naming.js';
import type { Declarations, ExportProblem } from '../core/declarations.js';
import type { FlagOutcome, PendingFlag } from '../core/types.js';
import { Dependencies, formatCycle } from './dependencies.js';
import { watchTracing } from '../trace/channels.js';

/** A plugin slot of one of the registry's points. */
type PointSlot = PluginSlot<PointState>;

/** Where a module came from: `registerModule`, Node's loaded modules, or a plugin folder. */
export type ModuleOrigin = 'registered' | 'loaded' | 'folder';

/** One registered module and what it contributes. */
export interface ModuleRecord {
  readonly name: string;
  readonly origin: ModuleOrigin;
  readonly file: string | undefined;
  /** The plugin slots its current version fills. */
  readonly plugins: PointSlot[];
  /** The points it declares. */
  readonly points: PointState[];
  /** Its health probe, if it exports one. */
  readonly health: (() => unknown) | undefined;
  /** How many of its exports were refused (bad name, metadata or value, a dependency cycle). */
  readonly refused: number;
  /** The node its plugins run on: the registry's own, or a worker node's. */
  readonly node: string;
}

/** How many call-only points (never declared, no plugins, no flags) are remembered. */
export const TRANSIENT_POINTS = 10_000;
/**
 * How many bytes of names the call-only points may hold in all (counted as three copies of each name). Short
 * names reach the entry bound first; long ones (a point name of 10 KB) this one, so that names built from
 * user input cannot grow the heap by more than about this much.
 */
export const TRANSIENT_NAME_BYTES = 2 << 20;

/** What applying a module's declarations did. */
export interface ApplyOutcome {
  /** Exports refused for reasons that only the whole registry can see (dependency cycles). */
  problems: ExportProblem[];
  /** True when a previous version was replaced. */
  replaced: boolean;
  /** True when the new version was refused as a whole and the previous one kept. */
  refused: boolean;
}

export class Registry {
  readonly modules = new Map<string, ModuleRecord>();
  /**
   * Points by name: kept ones (declared, plugged into, flagged, or held by a handle) for good, points that
   * were only called bounded by count and name bytes, so names built from user input cannot grow memory.
   */
  private readonly names: PointIndex;
  /** Plugin slots and points that a flag call has set: the ones `pendingFlags` looks at. */
  private readonly flaggedSlots = new Set<PointSlot>();
  private readonly flaggedPoints = new Set<PointState>();
  /** Which module needs which, which satisfy, and which plugins are held. */
  private readonly dependencies = new Dependencies<PointState>(this.modules);

  constructor(readonly node: string) {
    this.names = new PointIndex((module, point) => new PointState(module, point, node), assertCallNames, {
      max: TRANSIENT_POINTS,
      maxSize: TRANSIENT_NAME_BYTES,
      // The names, and the names the point builds from them (its _Extension and _Plugin export names).
      size: (p) => 3 * (p.module.length + p.point.length) + 32,
    });
    // the first subscriber to a tracing channel, and the last one leaving, rebuild every compiled caller
    watchTracing(this, (registry) => registry.retrace());
  }

  /** Drops every point's compiled callers, to be compiled again (with or without tracing) when next called. */
  private retrace(): void {
    for (const p of this.allPoints()) p.invalidate();
  }

  /** The point a call by name reaches. A miss costs one bounded entry, never a registry row. */
  find(module: string, point: string): PointState {
    return this.names.find(module, point);
  }

  /** The point, kept in the registry for good (promoted from the call-only points if it was one). */
  pin(module: string, point: string): PointState {
    return this.names.pin(module, point);
  }

  /** A kept point, or undefined; never creates one. */
  peek(module: string, point: string): PointState | undefined {
    return this.names.peek(module, point);
  }

  /** A point the registry knows, kept or call-only, or undefined; never creates one, nor refreshes the cache. */
  known(module: string, point: string): PointState | undefined {
    return this.names.known(module, point);
  }

  /** True when `module` is registered, or a point of it is declared, plugged into, flagged or called. */
  knowsModule(module: string): boolean {
    return this.modules.has(module) || this.names.hasModule(module);
  }

  /** Every point the registry knows, kept or call-only. */
  allPoints(): IterableIterator<PointState> {
    return this.names.all();
  }

  /**
   * Installs a module's declarations, replacing its previous version atomically: everything is checked
   * first, then applied in one synchronous step. Slots of plugins the new version keeps keep their flags
   * and counters; plugins it dropped stop being called; its new plugins appear enabled unless a flag set
   * earlier says otherwise.
   */
  apply(name: string, decls: Declarations, origin: ModuleOrigin, file?: string, node = this.node): ApplyOutcome {
    const previous = this.modules.get(name);
    const problems: ExportProblem[] = [];
    const accepted = this.refuseCycles(name, decls, problems);
    if (previous !== undefined && accepted.length < decls.plugins.length) {
      for (const problem of problems) problem.message += '; the previous version of the module stays';
      return { problems, replaced: false, refused: true };
    }

    const touched = new Set<PointState>();
    const plugins: PointSlot[] = [];
    const needs = new Set<string>();
    for (const d of accepted) {
      const p = this.pin(d.module, d.point);
      const slot = p.slot(name, node);
      slot.impl = d.impl;
      slot.meta = d.meta;
      for (const dep of d.meta.depends) needs.add(dep);
      plugins.push(slot);
      touched.add(p);
    }
    const points: PointState[] = [];
    for (const d of decls.points) {
      const p = this.pin(name, d.point);
      p.declaredBy = name;
      points.push(p);
      touched.add(p);
    }
    if (previous !== undefined) this.release(previous, plugins, points, touched);
    const refused = decls.problems.length + problems.length;
    this.modules.set(name, { name, origin, file, plugins, points, health: decls.health, refused, node });
    this.dependencies.setNeeds(name, needs);
    this.settle(name, touched);
    return { problems, replaced: previous !== undefined, refused: false };
  }

  /**
   * The plugins of `decls` that close no dependency cycle; the others are described in `problems`. One
   * search covers all of a module's dependencies; only when it finds a cycle is each plugin checked.
   */
  private refuseCycles(name: string, decls: Declarations, problems: ExportProblem[]): Declarations['plugins'] {
    const all = new Set<string>();
    for (const d of decls.plugins) for (const dep of d.meta.depends) all.add(dep);
    if (all.size === 0 || this.dependencies.cycleThrough(name, all) === null) return decls.plugins;
    return decls.plugins.filter((d) => {
      const cycle = this.dependencies.cycleThrough(name, d.meta.depends);
      if (cycle === null) return true;
      problems.push({
        export: d.fn,
        message:
          `plugin "${d.fn}" of module "${name}" depends on ${d.meta.depends.map((x) => describe(x)).join(', ')}, ` +
          `which closes the dependency cycle ${formatCycle(cycle)}; the plugin is refused (remove one of the dependencies)`,
      });
      return false;
    });
  }

  /** Removes a module: its plugins stop being called and the points it declared leave the report. */
  remove(name: string): boolean {
    const previous = this.modules.get(name);
    if (previous === undefined) return false;
    const touched = new Set<PointState>();
    this.release(previous, [], [], touched);
    this.modules.delete(name);
    this.dependencies.setNeeds(name, new Set());
    this.settle(name, touched);
    return true;
  }

  /** Detaches what `previous` contributed and `keepPlugins`/`keepPoints` do not. */
  private release(
    previous: ModuleRecord,
    keepPlugins: PointSlot[],
    keepPoints: PointState[],
    touched: Set<PointState>,
  ): void {
    const kept = new Set<PointSlot | PointState>([...keepPlugins, ...keepPoints]);
    for (const slot of previous.plugins) {
      if (kept.has(slot)) continue;
      slot.impl = null;
      slot.meta = null;
      slot.heldBy = null;
      touched.add(slot.point);
    }
    for (const p of previous.points) {
      if (kept.has(p)) continue;
      p.declaredBy = null;
      p.called = false;
      touched.add(p);
    }
  }

  /**
   * Sets a plugin's flag; it may be set before the plugin exists and applies when it appears. Says whether
   * the plugin is registered now (`'applied'`) or the flag waits for it (`'pending'`).
   */
  setPluginEnabled(pluginModule: string, module: string, point: string, enabled: boolean, node = this.node): FlagOutcome {
    if (!isModuleName(pluginModule)) {
      throw new TypeError(
        `extpoint: invalid plugin module name ${describe(pluginModule)}: a module name is 1 to 255 letters, digits, _ - . or $`,
      );
    }
    const p = this.pin(module, point);
    const slot = p.slot(pluginModule, node);
    this.flaggedSlots.add(slot);
    if (slot.enabled !== enabled) {
      slot.enabled = enabled;
      this.settle(pluginModule, new Set([p]));
    }
    return slot.impl !== null ? 'applied' : 'pending';
  }

  /**
   * Sets a point's flag, independent of its plugins' own flags. `'applied'` when the point is declared or
   * has plugins now, `'pending'` when the flag waits for it.
   */
  setPointEnabled(module: string, point: string, enabled: boolean): FlagOutcome {
    const p = this.pin(module, point);
    this.flaggedPoints.add(p);
    if (p.enabled !== enabled) {
      p.enabled = enabled;
      p.invalidate();
    }
    return present(p) ? 'applied' : 'pending';
  }

  /** Flags set for plugins and points that are not registered now, sorted by module, export name and node. */
  pendingFlags(): PendingFlag[] {
    const flags: PendingFlag[] = [];
    for (const slot of this.flaggedSlots) {
      if (slot.impl !== null) continue;
      const { fn, module, node } = slot.info;
      flags.push({ kind: 'plugin', fn, module, node, enabled: slot.enabled });
    }
    for (const p of this.flaggedPoints) {
      if (!present(p)) flags.push({ kind: 'point', fn: p.fn, module: p.module, node: p.node, enabled: p.enabled });
    }
    const order = (a: PendingFlag, b: PendingFlag) =>
      a.module !== b.module ? (a.module < b.module ? -1 : 1) : a.fn !== b.fn ? (a.fn < b.fn ? -1 : 1) : a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
    return flags.sort(order);
  }

  /** Switches per-plugin timing of a point on or off. */
  setProfiling(module: string, point: string, on: boolean): void {
    const p = this.pin(module, point);
    if (p.profiling === on) return;
    p.profiling = on;
    p.invalidate();
  }

  /**
   * After a change to `module` (registered, replaced, removed, a plugin's flag): recomputes the holds it
   * affects, on any point, and drops the touched points' order and dispatchers, to be rebuilt when next
   * called.
   */
  private settle(module: string, touched: Set<PointState>): void {
    this.dependencies.refresh(module, touched);
    for (const p of touched) p.invalidate();
  }
}

/** A point is registered while a module declares it or a plugin serves it. */
function present(p: PointState): boolean {
  if (p.declaredBy !== null) return true;
  for (const slot of p.slots.values()) if (slot.impl !== null) return true;
  return false;
}
