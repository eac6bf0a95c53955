/**
 * Case 14: what tracing costs. The same calls as cases 1 and 3 (10 plugins, sync and async) with nobody
 * subscribed to extpoint's tracing channels (the callers are then the untraced ones: the ratio to the
 * generated floor is case 1's), with one no-op subscriber on each of the two tracing channels, with the
 * OpenTelemetry adapter on (SDK tracer, a span processor whose exporter drops spans, the async-hooks
 * context manager), and with the Prometheus adapter on (prom-client registry). What the OpenTelemetry SDK
 * itself charges is shown by making as many bare spans as an adapted call makes.
 */
import dc from 'node:diagnostics_channel';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { traceWithOpenTelemetry } from '../../dist/trace/otel.js';
import { collectPrometheusMetrics } from '../../dist/trace/prometheus.js';
import { measure } from '../lib/measure.js';
import { ARGS, syncPlugins, asyncPlugins, extensionWith, countPluginCalls, countPluginCallsAsync } from '../lib/fixtures.js';
import { generatedFloor } from '../lib/floors.js';

const PLUGINS = 10;

export const id = '14';
export const title = 'Tracing cost, 10 plugins';
export const description = 'callPluginsSync and callPlugins of a point with 10 plugins, untraced and traced';
export const unit = 'ns/call';

export const variants = [
  { key: 'sync', label: 'callPluginsSync, no subscriber', ratioTo: 'floor' },
  { key: 'floor', label: 'floor: generated code, results', ratioTo: 'floor' },
  { key: 'syncChannel', label: 'callPluginsSync, one no-op subscriber per channel', ratioTo: 'sync' },
  { key: 'syncOtel', label: 'callPluginsSync, OpenTelemetry adapter', ratioTo: 'sync' },
  { key: 'syncPrometheus', label: 'callPluginsSync, Prometheus adapter', ratioTo: 'sync' },
  { key: 'sdkSpans', label: 'SDK alone: a span and 10 child spans, 4 attributes each', ratioTo: 'sync' },
  { key: 'async', label: 'callPlugins (async plugins), no subscriber', ratioTo: 'async' },
  { key: 'asyncChannel', label: 'callPlugins, one no-op subscriber per channel', ratioTo: 'async' },
  { key: 'asyncOtel', label: 'callPlugins, OpenTelemetry adapter', ratioTo: 'async' },
  { key: 'asyncPrometheus', label: 'callPlugins, Prometheus adapter', ratioTo: 'async' },
];

export const goals = [
  { text: 'untraced callPluginsSync within 1.2x of the generated floor', variant: 'sync', against: 'floor', op: '<=', limit: 1.2 },
];

/** Switches on what a variant's name asks for: nothing, no-op subscribers, or an adapter. */
function observe(key) {
  if (key.endsWith('Channel')) {
    const noop = () => {};
    const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
    dc.tracingChannel('extpoint:call').subscribe(handlers);
    dc.tracingChannel('extpoint:plugin').subscribe(handlers);
  } else if (key.endsWith('Otel')) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const dropped = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropped)] });
    traceWithOpenTelemetry({ tracerProvider: provider });
  } else if (key.endsWith('Prometheus')) {
    collectPrometheusMetrics({ registry: new Registry() });
  }
}

/** The SDK's own price: as many spans as an adapted call of 10 plugins makes, with no call around them. */
function sdkSpans() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const dropped = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };
  const tracer = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropped)] }).getTracer('bench');
  const attributes = { 'extpoint.module': 'host', 'extpoint.point': 'p', 'extpoint.node': 'local', 'extpoint.call.kind': 'callSync' };
  return () => {
    const call = tracer.startSpan('call', { attributes });
    const parent = trace.setSpan(context.active(), call);
    for (let i = 0; i < PLUGINS; i++) tracer.startSpan('plugin', { attributes }, parent).end();
    call.end();
  };
}

export async function run(key, opts) {
  if (key === 'sdkSpans') {
    const spans = sdkSpans();
    const m = await measure(spans, opts);
    return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
  }
  if (key === 'floor') {
    const { call } = generatedFloor(syncPlugins(PLUGINS));
    const m = await measure(() => call(ARGS), opts);
    return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
  }
  const sync = key.startsWith('sync');
  const ext = extensionWith(sync ? syncPlugins(PLUGINS) : asyncPlugins(PLUGINS));
  observe(key);
  const call = sync ? (args) => ext.callPluginsSync('host', 'p', args) : (args) => ext.callPlugins('host', 'p', args);
  const pluginsCalled = sync ? countPluginCalls(call) : await countPluginCallsAsync(call);
  if (pluginsCalled !== PLUGINS) throw new Error(`${key} called ${pluginsCalled} plugins, not ${PLUGINS}`);
  const m = await measure(() => call(ARGS), { ...opts, async: !sync });
  return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch, pluginsCalled } };
}
