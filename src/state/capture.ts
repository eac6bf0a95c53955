/**
 * Between the registry and a state document: what of the registry is operator state (flags, counters,
 * recent exits), read out into plain rows, and put back before any plugin runs. Flags go back through the
 * registry's own setters, so that the points they touch are recompiled; counters are set on the slots.
 */
import { EXITS_KEPT, Ring, type ExitRecord } from '../core/history.js';
import type { Registry } from '../registry/registry.js';
import type { SavedExit, SavedPlugin, SavedPoint, StateSnapshot } from './snapshot.js';

/** Turns whatever a plugin threw into plain JSON data, never throwing (the facade passes the report's converter). */
export type PlainData = (value: unknown) => unknown;

/** The registry's flags, counters and recent exits as rows. */
export function captureRegistry(registry: Registry, plain: PlainData): { points: SavedPoint[]; plugins: SavedPlugin[] } {
  const points: SavedPoint[] = [];
  const plugins: SavedPlugin[] = [];
  for (const p of registry.allPoints()) {
    if (p.slots.size === 0 && p.enabled) continue;
    p.settleTallies();
    points.push({ module: p.module, point: p.point, enabled: p.enabled });
    for (const slot of p.slots.values()) {
      plugins.push({
        pluginModule: slot.info.module,
        module: p.module,
        point: p.point,
        node: slot.info.node,
        enabled: slot.enabled,
        ok: slot.ok,
        exit: slot.exit,
        exits: slot.exits === null ? [] : slot.exits.toArray().map((e) => saveExit(e, plain)),
      });
    }
  }
  return { points, plugins };
}

/** Puts saved flags and counters back; counters only grow (a saved count below the live one is ignored). */
export function restoreRegistry(registry: Registry, snapshot: Pick<StateSnapshot, 'points' | 'plugins'>): void {
  for (const saved of snapshot.points) registry.setPointEnabled(saved.module, saved.point, saved.enabled);
  for (const saved of snapshot.plugins) {
    registry.setPluginEnabled(saved.pluginModule, saved.module, saved.point, saved.enabled, saved.node);
    const p = registry.pin(saved.module, saved.point);
    p.settleTallies();
    const slot = p.slot(saved.pluginModule, saved.node);
    if (saved.ok > slot.ok) slot.ok = saved.ok;
    if (saved.exit > slot.exit) {
      slot.exit = saved.exit;
      if (saved.exits.length > 0) {
        const ring = new Ring<ExitRecord>(EXITS_KEPT);
        for (const e of saved.exits) ring.push(loadExit(e));
        slot.exits = ring;
      }
    }
  }
}

export function saveExit(e: { n: number; reason: unknown; at: Date }, plain: PlainData): SavedExit {
  return { n: e.n, reason: plain(e.reason), at: e.at.toISOString() };
}

export function loadExit(e: SavedExit): { n: number; reason: unknown; at: Date } {
  return { n: e.n, reason: e.reason, at: new Date(e.at) };
}
