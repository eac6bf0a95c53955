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

  // Kahn's algorithm over the point's own plugins, always taking the smallest ready key.
  const byModule = new Map<string, S[]>();
  for (const s of sorted) {
    const list = byModule.get(s.info.module);
    if (list === undefined) byModule.set(s.info.module, [s]);
    else list.push(s);
  }
  const waitingOn = new Map<S, number>();
  const dependents = new Map<S, S[]>();
  for (const s of sorted) {
    let count = 0;
    for (const dep of s.meta?.depends ?? []) {
      for (const before of byModule.get(dep) ?? []) {
        if (before === s) continue;
        count++;
        const list = dependents.get(before);
        if (list === undefined) dependents.set(before, [s]);
        else list.push(s);
      }
    }
    waitingOn.set(s, count);
  }
  const ready = sorted.filter((s) => waitingOn.get(s) === 0);
  const out: S[] = [];
  while (ready.length > 0) {
    const next = ready.shift()!;
    out.push(next);
    for (const after of dependents.get(next) ?? []) {
      const left = waitingOn.get(after)! - 1;
      waitingOn.set(after, left);
      if (left === 0) {
        let at = ready.findIndex((r) => compareKeys(after, r) < 0);
        if (at === -1) at = ready.length;
        ready.splice(at, 0, after);
      }
    }
  }
  // A cycle cannot reach here (refused at load); should one slip through, its members still run, last.
  if (out.length < sorted.length) for (const s of sorted) if (!out.includes(s)) out.push(s);
  return out;
}
