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
}

/** How many call-only points (never declared, no plugins, no flags) are remembered. */
export const TRANSIENT_POINTS = 10_000;

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
   * were only called bounded, so names built from user input cannot grow memory.
   */
  private readonly names: PointIndex;
  /** Plugin slots that carry dependencies; holds are recomputed over these only. */
  private readonly dependent = new Set<PointSlot>();

  constructor(readonly node: string) {
    this.names = new PointIndex((module, point) => new PointState(module, point, node), assertCallNames, TRANSIENT_POINTS);
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
  apply(name: string, decls: Declarations, origin: ModuleOrigin, file?: string): ApplyOutcome {
    const previous = this.modules.get(name);
    const problems: ExportProblem[] = [];
    const accepted = decls.plugins.filter((d) => {
      const cycle = this.cycleThrough(name, d.meta.depends);
      if (cycle === null) return true;
      problems.push({
        export: d.fn,
        message:
          `plugin "${d.fn}" of module "${name}" depends on ${d.meta.depends.map((x) => describe(x)).join(', ')}, ` +
          `which closes the dependency cycle ${cycle.join(' -> ')}; the plugin is refused (remove one of the dependencies)`,
      });
      return false;
    });
    if (previous !== undefined && accepted.length < decls.plugins.length) {
      for (const problem of problems) problem.message += '; the previous version of the module stays';
      return { problems, replaced: false, refused: true };
    }

    const touched = new Set<PointState>();
    const plugins: PointSlot[] = [];
    for (const d of accepted) {
      const p = this.pin(d.module, d.point);
      const slot = p.slot(name, this.node);
      slot.impl = d.impl;
      slot.meta = d.meta;
      if (d.meta.depends.length > 0) this.dependent.add(slot);
      else this.dependent.delete(slot);
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
    this.modules.set(name, { name, origin, file, plugins, points, health: decls.health });
    this.settle(touched);
    return { problems, replaced: previous !== undefined, refused: false };
  }

  /** Removes a module: its plugins stop being called and the points it declared leave the report. */
  remove(name: string): boolean {
    const previous = this.modules.get(name);
    if (previous === undefined) return false;
    const touched = new Set<PointState>();
    this.release(previous, [], [], touched);
    this.modules.delete(name);
    this.settle(touched);
    return true;
  }

  /** Detaches what `previous` contributed and `keepPlugins`/`keepPoints` do not. */
  private release(
    previous: ModuleRecord,
    keepPlugins: PointSlot[],
    keepPoints: PointState[],
    touched: Set<PointState>,
  ): void {
    for (const slot of previous.plugins) {
      if (keepPlugins.includes(slot)) continue;
      slot.impl = null;
      slot.meta = null;
      slot.heldBy = null;
      this.dependent.delete(slot);
      touched.add(slot.point);
    }
    for (const p of previous.points) {
      if (keepPoints.includes(p)) continue;
      p.declaredBy = null;
      p.called = false;
      touched.add(p);
    }
  }

  /** Sets a plugin's flag; it may be set before the plugin exists and applies when it appears. */
  setPluginEnabled(pluginModule: string, module: string, point: string, enabled: boolean, node = this.node): void {
    if (!isModuleName(pluginModule)) {
      throw new TypeError(
        `extpoint: invalid plugin module name ${describe(pluginModule)}: a module name is 1 to 255 letters, digits, _ - . or $`,
      );
    }
    const p = this.pin(module, point);
    const slot = p.slot(pluginModule, node);
    if (slot.enabled === enabled) return;
    slot.enabled = enabled;
    this.settle(new Set([p]));
  }

  /** Sets a point's flag, independent of its plugins' own flags. */
  setPointEnabled(module: string, point: string, enabled: boolean): void {
    const p = this.pin(module, point);
    if (p.enabled === enabled) return;
    p.enabled = enabled;
    p.invalidate();
  }

  /** Switches per-plugin timing of a point on or off. */
  setProfiling(module: string, point: string, on: boolean): void {
    const p = this.pin(module, point);
    if (p.profiling === on) return;
    p.profiling = on;
    p.invalidate();
  }

  /**
   * After a change: recomputes holds (a change may release or hold plugins on other points) and drops the
   * touched points' order and dispatchers, to be rebuilt when next called.
   */
  private settle(touched: Set<PointState>): void {
    this.recomputeHolds(touched);
    for (const p of touched) p.invalidate();
  }

  /**
   * A dependency is satisfied when its module is registered and, if it has plugins, at least one of them
   * is enabled and not held itself. A plugin with an unsatisfied dependency is held by the first one.
   */
  private recomputeHolds(touched: Set<PointState>): void {
    if (this.dependent.size === 0) return;
    const memo = new Map<string, boolean>();
    const visiting = new Set<string>();
    const satisfied = (module: string): boolean => {
      const known = memo.get(module);
      if (known !== undefined) return known;
      const record = this.modules.get(module);
      let ok = record !== undefined;
      if (ok && record!.plugins.length > 0 && !visiting.has(module)) {
        visiting.add(module);
        ok = record!.plugins.some((s) => s.enabled && heldBy(s) === null);
        visiting.delete(module);
      }
      memo.set(module, ok);
      return ok;
    };
    const heldBy = (slot: PointSlot): string | null => {
      for (const dep of slot.meta?.depends ?? []) if (!satisfied(dep)) return dep;
      return null;
    };
    for (const slot of this.dependent) {
      const held = heldBy(slot);
      if (held !== slot.heldBy) {
        slot.heldBy = held;
        touched.add(slot.point);
      }
    }
  }

  /**
   * The cycle that `module` depending on `depends` would close, as a path of module names from `module`
   * back to itself, or null. Edges are the dependencies of the registered plugins of other modules.
   */
  private cycleThrough(module: string, depends: readonly string[]): string[] | null {
    const edges = (m: string): string[] => {
      const record = this.modules.get(m);
      if (record === undefined || m === module) return [];
      const out = new Set<string>();
      for (const slot of record.plugins) for (const dep of slot.meta?.depends ?? []) out.add(dep);
      return [...out];
    };
    const seen = new Set<string>();
    const walk = (m: string, path: string[]): string[] | null => {
      if (m === module) return [...path, m];
      if (seen.has(m)) return null;
      seen.add(m);
      for (const next of edges(m)) {
        const found = walk(next, [...path, m]);
        if (found !== null) return found;
      }
      return null;
    };
    for (const dep of depends) {
      const found = walk(dep, [module]);
      if (found !== null) return found;
    }
    return null;
  }
}
