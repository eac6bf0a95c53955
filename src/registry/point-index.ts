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

/** The same text as a string V8 keeps only once, so a map lookup with a literal name compares pointers. */
function unique(name: string): string {
  return Object.keys({ [name]: 0 })[0]!;
}

export class PointIndex {
  private readonly kept: ByName = new Map();
  private readonly callOnly: ByName = new Map();
  /** The call-only points, least recently used first; one leaving this list leaves `callOnly`. */
  private readonly recent: LRUCache<PointState, true>;
  /** The last kept point found by name, and the names it was found by. */
  private lastModule: string | null = null;
  private lastPoint: string | null = null;
  private last: PointState | null = null;

  /**
   * @param make creates a point (names already checked)
   * @param check throws a TypeError for names no point may have
   * @param maxCallOnly how many call-only points are remembered
   */
  constructor(
    private readonly make: (module: string, point: string) => PointState,
    private readonly check: (module: string, point: string) => void,
    maxCallOnly: number,
  ) {
    this.recent = new LRUCache<PointState, true>({
      max: maxCallOnly,
      dispose: (_value, p) => remove(this.callOnly, p),
    });
  }

  /** The point a call by name reaches; a name never seen makes a call-only point. */
  find(module: string, point: string): PointState {
    if (module === this.lastModule && point === this.lastPoint) return this.last!;
    return this.lookup(module, point);
  }

  private lookup(module: string, point: string): PointState {
    const p = this.kept.get(module)?.get(point);
    if (p !== undefined) {
      this.lastModule = module;
      this.lastPoint = point;
      this.last = p;
      return p;
    }
    let q = this.callOnly.get(module)?.get(point);
    if (q !== undefined) {
      this.recent.get(q);
      return q;
    }
    this.check(module, point);
    q = this.make(module, point);
    add(this.callOnly, q);
    this.recent.set(q, true);
    return q;
  }

  /** The point, kept for good (promoted from the call-only points if it was one). */
  pin(module: string, point: string): PointState {
    const found = this.kept.get(module)?.get(point);
    if (found !== undefined) return found;
    this.check(module, point);
    let p = this.callOnly.get(module)?.get(point);
    if (p !== undefined) this.recent.delete(p);
    else p = this.make(module, point);
    add(this.kept, p);
    return p;
  }

  /** A kept point, or undefined; never creates one. */
  peek(module: string, point: string): PointState | undefined {
    return this.kept.get(module)?.get(point);
  }

  /** Every point, kept or call-only. */
  *all(): IterableIterator<PointState> {
    for (const inModule of this.kept.values()) yield* inModule.values();
    yield* this.recent.keys();
  }
}

function add(map: ByName, p: PointState): void {
  let inModule = map.get(p.module);
  if (inModule === undefined) map.set(unique(p.module), (inModule = new Map()));
  inModule.set(unique(p.point), p);
}

function remove(map: ByName, p: PointState): void {
  const inModule = map.get(p.module);
  if (inModule === undefined || inModule.get(p.point) !== p) return;
  inModule.delete(p.point);
  if (inModule.size === 0) map.delete(p.module);
}
