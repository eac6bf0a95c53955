/**
 * Dependencies between plugin modules: which module needs which, which modules satisfy a dependency,
 * which plugins are held, and which new dependency would close a cycle.
 *
 * Everything here is incremental and iterative, so a chain of many thousands of modules registers in
 * linear time and never recurses: a change re-examines only the changed module and, while satisfaction
 * keeps flipping, the modules that need it. Satisfaction is monotone (a plugin runs when all it needs is
 * satisfied), so one change flips each module at most once.
 */
import type { PluginMeta } from '../core/metadata.js';

/** What the dependency logic reads and writes of one plugin slot. */
export interface DependentSlot<P> {
  readonly point: P;
  readonly enabled: boolean;
  readonly meta: PluginMeta | null;
  heldBy: string | null;
}

/** What the dependency logic reads of one registered module. */
export interface DependentModule<P> {
  /** The plugin slots its current version fills. */
  readonly plugins: readonly DependentSlot<P>[];
  /** How many of its exports were refused when it was registered (bad metadata or export, a cycle). */
  readonly refused: number;
}

/** Cycles longer than this are named by their first and last members only. */
const CYCLE_NAMES_SHOWN = 12;

/** A cycle as `a -> b -> c -> a`, shortened in the middle when long, so a message stays readable. */
export function formatCycle(path: readonly string[]): string {
  if (path.length <= CYCLE_NAMES_SHOWN) return path.join(' -> ');
  const head = path.slice(0, CYCLE_NAMES_SHOWN / 2);
  const tail = path.slice(path.length - CYCLE_NAMES_SHOWN / 2 + 1);
  return [...head, `... ${path.length - head.length - tail.length} more ...`, ...tail].join(' -> ');
}

/**
 * The module dependency graph, with each module's satisfaction and each registered plugin's hold.
 * A dependency is satisfied by a registered module that loaded: one with at least one plugin that is
 * enabled and not held itself (on any point), or, for a module without plugins, one of which no export
 * was refused.
 */
export class Dependencies<P> {
  /** Module -> the modules its registered plugins depend on. */
  private readonly needs = new Map<string, Set<string>>();
  /** Module -> the registered modules that have plugins depending on it. */
  private readonly neededBy = new Map<string, Set<string>>();
  /** The modules that currently satisfy a dependency on them. */
  private readonly satisfied = new Set<string>();

  constructor(private readonly modules: ReadonlyMap<string, DependentModule<P>>) {}

  /** True when `module` currently satisfies a dependency on it. */
  satisfies(module: string): boolean {
    return this.satisfied.has(module);
  }

  /** Records what `module`'s registered plugins depend on now (nothing, once it is removed). */
  setNeeds(module: string, depends: ReadonlySet<string>): void {
    const before = this.needs.get(module);
    if (before !== undefined) {
      for (const dep of before) {
        if (depends.has(dep)) continue;
        const users = this.neededBy.get(dep)!;
        users.delete(module);
        if (users.size === 0) this.neededBy.delete(dep);
      }
    }
    if (depends.size === 0) {
      this.needs.delete(module);
      return;
    }
    for (const dep of depends) {
      if (before?.has(dep)) continue;
      let users = this.neededBy.get(dep);
      if (users === undefined) this.neededBy.set(dep, (users = new Set()));
      users.add(module);
    }
    this.needs.set(module, new Set(depends));
  }

  /**
   * After `module` was registered, replaced, removed or had a plugin's flag changed: recomputes the holds
   * of its plugins and, while satisfaction changes, of the plugins that depend on it, transitively. Adds
   * the point of every plugin whose hold changed to `touched`.
   */
  refresh(module: string, touched: Set<P>): void {
    const queue = [module];
    for (let i = 0; i < queue.length; i++) {
      const name = queue[i]!;
      const record = this.modules.get(name);
      let ok = false;
      if (record !== undefined) {
        let runs = false;
        for (const slot of record.plugins) {
          const held = this.firstUnsatisfied(slot.meta?.depends);
          if (held !== slot.heldBy) {
            slot.heldBy = held;
            touched.add(slot.point);
          }
          if (held === null && slot.enabled) runs = true;
        }
        ok = record.plugins.length > 0 ? runs : record.refused === 0;
      }
      if (ok === this.satisfied.has(name)) continue;
      if (ok) this.satisfied.add(name);
      else this.satisfied.delete(name);
      const users = this.neededBy.get(name);
      if (users !== undefined) for (const user of users) queue.push(user);
    }
  }

  private firstUnsatisfied(depends: readonly string[] | undefined): string | null {
    if (depends !== undefined) for (const dep of depends) if (!this.satisfied.has(dep)) return dep;
    return null;
  }

  /**
   * The cycle that `module` depending on `depends` would close, as the path of module names from
   * `module` back to itself, or null. Edges are the dependencies of the other registered modules (the
   * current version of `module` itself is being replaced). Searches forward from `depends` and backward
   * from `module` by turns, so the cost is bounded by the smaller side, without recursion.
   */
  cycleThrough(module: string, depends: Iterable<string>): string[] | null {
    /** Forward: a module reached from `depends` -> the module that needs it (null for a dependency). */
    const from = new Map<string, string | null>();
    /** Backward: a module that reaches `module` -> the module it needs on the way (null for `module`). */
    const to = new Map<string, string | null>([[module, null]]);
    const forward: string[] = [];
    for (const dep of depends) {
      if (dep === module) return [module, module];
      if (from.has(dep)) continue;
      from.set(dep, null);
      forward.push(dep);
    }
    const backward = [module];
    const path = (meet: string): string[] => {
      const head: string[] = [];
      for (let m: string | null = meet; m !== null; m = from.get(m)!) head.push(m);
      const tail: string[] = [];
      for (let m = to.get(meet)!; m !== null; m = to.get(m)!) tail.push(m);
      return [module, ...head.reverse(), ...tail];
    };
    let f = 0;
    let b = 0;
    while (f < forward.length && b < backward.length) {
      const next = forward[f++]!;
      for (const dep of this.needs.get(next) ?? []) {
        if (from.has(dep)) continue;
        from.set(dep, next);
        if (to.has(dep)) return path(dep);
        forward.push(dep);
      }
      const back = backward[b++]!;
      for (const user of this.neededBy.get(back) ?? []) {
        if (to.has(user)) continue;
        to.set(user, back);
        if (from.has(user)) return path(user);
        backward.push(user);
      }
    }
    return null;
  }
}
