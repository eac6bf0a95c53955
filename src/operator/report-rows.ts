/**
 * The shapes of `report()`'s data: the origin's status, plugins and points tables as plain rows. Both the
 * report and its text rendering read these; neither imports the other's code for them.
 */
import type { LoadError, OperatorAction, TerminateReason } from '../core/history.js';
import type { PluginProfile } from '../calls/slot.js';
import type { PendingFlag } from '../core/types.js';
import type { NodeRow } from '../nodes/node.js';

export type { NodeRow } from '../nodes/node.js';

/** One plugin key: `fn` its export name, `module` its own module. */
export interface PluginRow extends PointRow {
  /** The dependency that holds it back, or null when it may run. */
  heldBy: string | null;
  /** Call timings, present while its point is profiled or once it was. */
  profile?: PluginProfile;
}

/** One extension point: `fn` its `_Extension` name, `module` the module it belongs to; counts sum its plugins'. */
export interface PointRow {
  fn: string;
  module: string;
  node: string;
  enabled: boolean;
  ok: number;
  exit: number;
}

/** One of a plugin's recent exits: `n` is its running exit number. */
export interface ExitReasonRow {
  fn: string;
  module: string;
  node: string;
  n: number;
  reason: unknown;
  at: Date;
}

export interface ReportStatus {
  startCount: number;
  startTime: Date | null;
  exitReasons: ExitReasonRow[];
  terminateReasons: TerminateReason[];
  loadErrors: LoadError[];
  /** Flags kept for plugins and points that are not registered now (a typo in a flag call shows here). */
  pendingFlags: PendingFlag[];
  /** The last state-changing actions taken through the web panel (`source: 'panel'`), oldest first. */
  operatorActions?: OperatorAction[];
}

/** The three tables of a report. */
export interface ReportData {
  readonly status: ReportStatus;
  readonly plugins: PluginRow[];
  readonly points: PointRow[];
  /** One row per node plugins run on: the extension's own, then its worker nodes. */
  readonly nodes?: NodeRow[];
}
