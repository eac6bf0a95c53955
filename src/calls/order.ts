/**
 * The order in which a point's plugins run: after the plugins (on the same point) of the modules they
 * depend on, ties broken by (priority, plugin module, node) in plain code-unit order, never locale order.
 * All plugins of one point share their export name, so the module decides among equals.
 */
import type { PluginSlot } from './slot.js';
import { DEFAULT_PRIORITY } from '../core/metadata.js';

function compareKeys(a: PluginSlot, b: PluginSlot): number {
  const pa = a.meta?.priority ?? DEFAULT_PRIORITY;
  const pb = b.meta?.priority ?? DEFAULT_PRIORITY;
  if (pa !== pb) return pa - pb;
  const ma = a.info.module;
  const mb = b.info.module;
  if (ma !== mb) return ma < mb ? -1 : 1;
  const na = a.info.node;
  const nb = b.info.node;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Orders the registered plugins of one point. Dependencies are acyclic: cycles are refused at load. */
export function orderPlugins<S extends PluginSlot>(slots: S[]): S[] {
  const sorted = slots.slice().sort(compareKeys);
  if (!sorted.some((s) => (s.meta?.depends.length ?? 0) > 0)) return sorted;

  // Kahn's algorithm over the point's own plugins, always taking the smallest ready key. A plugin is
  // known by its rank in `sorted`, so the smallest ready key is the smallest ready rank, kept in a heap.
  const byModule = new Map<string, number[]>();
  sorted.forEach((s, rank) => {
    const list = byModule.get(s.info.module);
    if (list === undefined) byModule.set(s.info.module, [rank]);
    else list.push(rank);
  });
  const waitingOn = new Array<number>(sorted.length).fill(0);
  const dependents: number[][] = sorted.map(() => []);
  sorted.forEach((s, rank) => {
    for (const dep of s.meta?.depends ?? []) {
      for (const before of byModule.get(dep) ?? []) {
        if (before === rank) continue;
        waitingOn[rank]!++;
        dependents[before]!.push(rank);
      }
    }
  });
  const ready = new RankHeap();
  waitingOn.forEach((n, rank) => n === 0 && ready.push(rank));
  const out: S[] = [];
  const placed = new Array<boolean>(sorted.length).fill(false);
  while (ready.size > 0) {
    const next = ready.pop();
    out.push(sorted[next]!);
    placed[next] = true;
    for (const after of dependents[next]!) if (--waitingOn[after]! === 0) ready.push(after);
  }
  // A cycle cannot reach here (refused at load); should one slip through, its members still run, last.
  if (out.length < sorted.length) sorted.forEach((s, rank) => placed[rank] || out.push(s));
  return out;
}

/** A binary min-heap of ranks: ordering n plugins costs O(n log n) however many become ready at once. */
class RankHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(rank: number): void {
    const items = this.items;
    let at = items.length;
    items.push(rank);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (items[parent]! <= rank) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = rank;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= items.length) break;
        if (child + 1 < items.length && items[child + 1]! < items[child]!) child++;
        if (items[child]! >= last) break;
        items[at] = items[child]!;
        at = child;
      }
      items[at] = last;
    }
    return top;
  }
}
