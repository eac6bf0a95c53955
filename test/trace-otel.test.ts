/**
 * extpoint/otel: spans for calls and plugin runs, recorded by the OpenTelemetry SDK's in-memory exporter,
 * with the async-hooks context manager for parenting.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createExtension, isExtpointError, ETIMEOUT, type Extension } from '../src/index.js';
import { traceWithOpenTelemetry, type OpenTelemetryTracing } from '../src/trace/otel.js';
import { tracing } from '../src/trace/channels.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const manager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(() => {
  context.disable();
});

let adapter: OpenTelemetryTracing | null = null;
afterEach(() => {
  adapter?.close();
  adapter = null;
  exporter.reset();
  expect(tracing).toEqual({ call: false, plugin: false });
});

const make = (): Extension => createExtension({ scanLoaded: false });
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('extpoint/otel', () => {
  it("parents the call's span to the caller's active span and each plugin's span to the call's", async () => {
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: (x: number) => x + 1 });
    ext.registerModule('b', { host_p_Plugin: async (x: number) => new Promise((resolve) => setTimeout(() => resolve(x * 2), 5)) });
    ext.registerModule('c', { host_p_Plugin: (x: number) => x - 1 });
    adapter = traceWithOpenTelemetry({ tracerProvider: provider });
    const results = await tracer.startActiveSpan('request', async (outer) => {
      try {
        return await ext.callPlugins('host', 'p', 10);
      } finally {
        outer.end();
      }
    });
    expect(results.map((r) => r.data)).toEqual([11, 20, 9]);
    const [request] = named('request');
    const [call] = named('call host/p');
    expect(call).toBeDefined();
    expect(parentOf(call!)).toBe(idOf(request!));
    expect(call!.attributes).toMatchObject({ 'extpoint.module': 'host', 'extpoint.point': 'p', 'extpoint.call.plugins': 3, 'extpoint.call.exits': 0 });
    for (const m of ['a', 'b', 'c']) {
      const [run] = named(`plugin ${m} host/p`);
      expect(parentOf(run!), m).toBe(idOf(call!));
      expect(run!.attributes).toMatchObject({ 'extpoint.plugin.module': m, 'extpoint.plugin.state': 'ok', 'extpoint.node': 'local' });
      expect(run!.spanContext().traceId).toBe(request!.spanContext().traceId);
    }
  });

  it('marks failing plugins and refused calls as errors; sync calls, notify and pipe make spans too', async () => {
    const ext = make();
    ext.registerModule('a', {
      host_p_Plugin: () => {
        throw new Error('a broke');
      },
    });
    ext.registerModule('b', { host_p_Plugin: (x: unknown) => x });
    adapter = traceWithOpenTelemetry({ tracerProvider: provider });
    ext.callPluginsSync('host', 'p', 1);
    ext.notify('host', 'p', 1);
    await ext.pipe('host', 'p', 1);
    await expect(ext.callPlugins('host', 'p', 1, { nope: 1 } as never)).rejects.toThrow(TypeError);
    expect(named('callSync host/p')[0]!.attributes['extpoint.call.exits']).toBe(1);
    expect(named('notify host/p')).toHaveLength(1);
    expect(named('pipe host/p')).toHaveLength(1);
    const refused = named('call host/p')[0]!;
    expect(refused.status.code).toBe(SpanStatusCode.ERROR);
    const failed = named('plugin a host/p');
    expect(failed).toHaveLength(3);
    for (const s of failed) {
      expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'a broke' });
      expect(s.events.map((e) => e.name)).toEqual(['exception']);
    }
    expect(named('plugin b host/p').every((s) => s.status.code === SpanStatusCode.UNSET)).toBe(true);
  });

  it("a call made by a plugin is a child of that plugin's span", () => {
    const ext = make();
    ext.registerModule('inner', { host_q_Plugin: () => 'q' });
    ext.registerModule('outer', { host_p_Plugin: () => ext.callPluginsSync('host', 'q')[0]!.data });
    adapter = traceWithOpenTelemetry({ tracerProvider: provider });
    expect(ext.callPluginsSync('host', 'p')[0]!.data).toBe('q');
    const [outerRun] = named('plugin outer host/p');
    const [innerCall] = named('callSync host/q');
    expect(parentOf(innerCall!)).toBe(idOf(outerRun!));
  });

  it('a plugin past the timeout ends with the call, as ETIMEOUT; close() stops the spans', async () => {
    const ext = make();
    ext.registerModule('slow', { host_p_Plugin: () => new Promise(() => {}) });
    adapter = traceWithOpenTelemetry({ tracerProvider: provider });
    const [result] = await ext.callPlugins('host', 'p', undefined, { timeoutMs: 10 });
    expect(isExtpointError(result!.data) && result!.data.code).toBe(ETIMEOUT);
    const [run] = named('plugin slow host/p');
    expect(run!.attributes['extpoint.plugin.state']).toBe('EXIT');
    expect(run!.status.code).toBe(SpanStatusCode.ERROR);
    adapter.close();
    adapter = null;
    const before = exporter.getFinishedSpans().length;
    await ext.callPlugins('host', 'p', undefined, { timeoutMs: 10 });
    expect(exporter.getFinishedSpans().length).toBe(before);
  });

  it('plugins: false makes call spans only; bad options are named', async () => {
    expect(() => traceWithOpenTelemetry({ plugin: false } as never)).toThrow(/unknown option "plugin"/);
    expect(() => traceWithOpenTelemetry({ plugins: 'no' } as never)).toThrow(/plugins must be true or false/);
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: () => 1 });
    adapter = traceWithOpenTelemetry({ tracer: provider.getTracer('x'), plugins: false });
    expect(tracing).toEqual({ call: true, plugin: false });
    await ext.callPlugins('host', 'p');
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['call host/p']);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
