/**
 * Tracing: the channel names and payload types of extpoint's diagnostics_channel tracing channels.
 * Re-exported from the package's main entry; the OpenTelemetry and Prometheus adapters live in
 * `extpoint/otel` and `extpoint/prometheus`.
 */
export { CALL_CHANNEL, PLUGIN_CHANNEL, refreshTracing } from './channels.js';
export type { CallKind, CallTrace, PluginTrace, TraceState } from './payload.js';
