/**
 * A state file read as a report, for `extpoint state FILE`: the same tables the live report prints,
 * built from the saved rows without taking the file's lock, so a running host's file can be read.
 */
import { extensionName, pluginName } from '../core/naming.js';
import type { StateSnapshot } from '../state/snapshot.js';
import { Report, byKey } from './report.js';
import type { ExitReasonRow, PluginRow, PointRow } from './report-rows.js';

export function reportOfSnapshot(saved: StateSnapshot): Report {
  const plugins: PluginRow[] = [];
  const exitReasons: ExitReasonRow[] = [];
  const points = new Map<string, PointRow>();
  for (const p of saved.points) {
    points.set(`${p.module}\0${p.point}`, { fn: extensionName(p.module, p.point), module: p.module, node: saved.node, enabled: p.enabled, ok: 0, exit: 0 });
  }
  for (const s of saved.plugins) {
    const fn = pluginName(s.module, s.point);
    plugins.push({ fn, module: s.pluginModule, node: s.node, enabled: s.enabled, ok: s.ok, exit: s.exit, heldBy: null });
    for (const e of s.exits) exitReasons.push({ fn, module: s.pluginModule, node: s.node, n: e.n, reason: e.reason, at: new Date(e.at) });
    const key = `${s.module}\0${s.point}`;
    let point = points.get(key);
    if (point === undefined) {
      point = { fn: extensionName(s.module, s.point), module: s.module, node: saved.node, enabled: true, ok: 0, exit: 0 };
      points.set(key, point);
    }
    point.ok += s.ok;
    point.exit += s.exit;
  }
  return new Report(
    {
      startCount: saved.startCount,
      startTime: saved.startTime === null ? null : new Date(saved.startTime),
      exitReasons: exitReasons.sort((a, b) => byKey(a, b) || a.n - b.n),
      terminateReasons: saved.terminateReasons.map((t) => ({ n: t.n, reason: t.reason, at: new Date(t.at) })),
      loadErrors: saved.loadErrors.map((e) => ({ ...e, at: new Date(e.at) })),
      // Every saved flag is a row above; whether its plugin is registered is known only to a running host.
      pendingFlags: [],
    },
    plugins.sort(byKey),
    [...points.values()].sort(byKey),
  );
}
