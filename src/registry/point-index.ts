/**
 * Finding a point by its names, as every call by name does. Two levels of maps (module, then point), so a
 * call never builds a key string; and a one-entry memory of the last kept point found, so a host that
 * calls the same point by name again and again pays two string comparisons, not two map lookups.
 *
 * Kept points (declared, plugged into, flagged, or held by a handle) stay for good. Points that were only
 * called live in a second pair of maps bounded by a least-recently-used list, so names built from user
 * input cannot grow memory.
 */
import { LRUCache } from 'lru-cache';
import type { PointState } from '../calls/point.js';

type ByName = Map<string, Map<string, PointState>>;

/** The kept points of one module, and the one of them last found by name. */
interface ModuleEntry {
  readonly points: Map<string, PointState>;
  lastPoint: string | null;
  last: PointState | null;
}

export class PointIndex {
  private readonly kept = new Map<string, ModuleEntry>();
  private readonly callOnly: ByName = new Map();
  /** The call-only points, least recently used first; one leaving this list leaves `callOnly`. */
  private readonly recent: LRUCache<PointState, true>;
  /** The module whose kept points were last looked in, and its entry. */
  private lastModule: string | null = null;
  private lastEntry: ModuleEntry | null = null;

  /**
   * @param make creates a point (names already checked)
   * @param check throws a TypeError for names no point may have
   * @param bound how many call-only points are remembered, and how many bytes of names (by `size`) they may hold
   */
  constructor(
    private readonly make: (module: string, point: string) => PointState,
    private readonly check: (module: string, point: string) => void,
    bound: { max: number; maxSize: number; size: (p: PointState) => number },
  ) {
    this.recent = new LRUCache<PointState, true>({
      max: bound.max,
      maxSize: bound.maxSize,
      sizeCalculation: (_value, p) => bound.size(p),
      dispose: (_value, p) => remove(this.callOnly, p),
    });
  }

  /**
   * The point a call by name reaches; a name never seen makes a call-only point. The same module as last
   * time costs one string comparison instead of a map lookup, the same point as last time another.
   */
  find(module: string, point: string): PointState {
    let entry: ModuleEntry | null | undefined = this.lastEntry;
    if (module !== this.lastModule || entry === null) {
      entry = this.kept.get(module);
      if (entry === undefined) return this.callOnlyPoint(module, point);
      this.lastModule = module;
      this.lastEntry = entry;
    }
    if (point === entry.lastPoint) return entry.last!;
    const p = entry.points.get(point);
    if (p === undefined) return this.callOnlyPoint(module, point);
    entry.lastPoint = point;
    entry.last = p;
    return p;
  }

  private callOnlyPoint(module: string, point: string): PointState {
    let p = this.callOnly.get(module)?.get(point);
    if (p !== undefined) {
      this.recent.get(p);
      return p;
    }
    this.check(module, point);
    p = this.make(module, point);
    let inModule = this.callOnly.get(module);
    if (inModule === undefined) this.callOnly.set(module, (inModule = new Map()));
    inModule.set(point, p);
    this.recent.set(p, true);
    return p;
  }

  /** The point, kept for good (promoted from the call-only points if it was one). */
  pin(module: string, point: string): PointState {
    const found = this.peek(module, point);
    if (found !== undefined) return found;
    this.check(module, point);
    let p = this.callOnly.get(module)?.get(point);
    if (p !== undefined) this.recent.delete(p);
    else p = this.make(module, point);
    let entry = this.kept.get(module);
    if (entry === undefined) this.kept.set(module, (entry = { points: new Map(), lastPoint: null, last: null }));
    entry.points.set(point, p);
    return p;
  }

  /** A kept point, or undefined; never creates one. */
  peek(module: string, point: string): PointState | undefined {
    return this.kept.get(module)?.points.get(point);
  }

  /** A point, kept or call-only, or undefined; never creates one, nor refreshes the call-only list. */
  known(module: string, point: string): PointState | undefined {
    return this.peek(module, point) ?? this.callOnly.get(module)?.get(point);
  }

  /** True when a point of `module` is kept or was called. */
  hasModule(module: string): boolean {
    return this.kept.has(module) || this.callOnly.has(module);
  }

  /** Every point, kept or call-only. */
  *all(): IterableIterator<PointState> {
    for (const entry of this.kept.values()) yield* entry.points.values();
    yield* this.recent.keys();
  }
}

function remove(map: ByName, p: PointState): void {
  const inModule = map.get(p.module);
  if (inModule === undefined || inModule.get(p.point) !== p) return;
  inModule.delete(p.point);
  if (inModule.size === 0) map.delete(p.module);
}
