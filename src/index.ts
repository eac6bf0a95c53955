/**
 * extpoint: convention-based extension points for Node.js.
 *
 * A host module exports `<module>_<point>_Extension(args)` whose body calls
 * `extension.callPlugins('<module>', '<point>', args)`; any module exports `<module>_<point>_Plugin(args)`
 * and is found by its name. Every call returns one `{ state, info, data }` per plugin run.
 *
 * @packageDocumentation
 */
import { Extension, type ExtensionOptions } from './extension.js';

export { Extension } from './extension.js';
export type { ExtensionOptions, StartOptions, ExtensionEvents, ModuleEvent, PointHandle } from './extension.js';
export type { PluginInfo, PluginResult, CallOptions } from './core/types.js';
export type { PipeOptions, PluginContext, FlagOutcome, PendingFlag } from './core/types.js';
export type { Report, ReportTextOptions, PluginRow, PointRow, ExitReasonRow, ReportStatus } from './operator/report.js';
export type { ReportFilter, ReportOptions } from './operator/report-filter.js';
export { jsonReport, type JsonReport, type Json } from './operator/report-json.js';
export type { LoadError, TerminateReason, OperatorAction } from './core/history.js';
export type { PluginProfile } from './calls/slot.js';
export type { HealthOptions, HealthReport, ModuleHealth, PointHealth, HealthStatus } from './calls/health.js';
export type { ModuleOrigin } from './registry/registry.js';
export type { ReplService } from './operator/repl-server.js';
export type { NodeDirOptions } from './nodes/options.js';
export type { NodeRow, NodeEvent, NodeKind, NodeStatus } from './nodes/node.js';
export type { RestartLimits } from './nodes/restart-policy.js';
export { serveNode, type ServeNodeOptions, type NodeService } from './serve-node.js';
export type { ClusterOptions } from './cluster/settings.js';
export type { PanelService } from './panel/server.js';
export type { PanelOptions } from './panel/options.js';
export { StateError, type StateStore } from './state/store.js';
export type { StateSnapshot } from './state/snapshot.js';
export { halt, HALT, type Halt } from './core/halt.js';
export {
  ExtpointError,
  isExtpointError,
  ERROR_CODES,
  ETIMEOUT,
  EASYNC,
  EUNKNOWN,
  ESTATECORRUPT,
  ESTATELOCKED,
  ESTATEPERM,
  ESTATEIO,
  ENODEDOWN,
  EDATACLONE,
  EABORT,
  type ExtpointErrorCode,
} from './core/errors.js';
export { definePlugin, type PluginOptions } from './core/metadata.js';
export { CALL_CHANNEL, PLUGIN_CHANNEL, refreshTracing, type CallKind, type CallTrace, type PluginTrace, type TraceState } from './trace/index.js';
export { definePoint } from './core/points.js';
export type { Point, DeclaredPoints, DeclaredPoint, TypedPointHandle, PluginFor, PluginReturn, IsPipePoint, NotAPipePoint, PipeResult, TypedPipeOptions, Awaitable } from './core/points.js';
export type { Priority } from './core/plugin-checks.js';
export { extensionName, pluginName, parseExportName } from './core/naming.js';

/** Makes an independent instance: its own registry, flags, counters and history. */
export function createExtension(options?: ExtensionOptions): Extension {
  return new Extension(options);
}

const DEFAULT_KEY = Symbol.for('extpoint.default');

/**
 * The process-wide default instance that host modules call, like the origin's registered `extension`
 * process. It is created when extpoint is first loaded (shared by every copy of extpoint in the process)
 * and started by the host with `await extension.start()`.
 */
export const extension: Extension = ((globalThis as { [DEFAULT_KEY]?: Extension })[DEFAULT_KEY] ??= new Extension());
