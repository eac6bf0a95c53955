/**
 * `extpoint/otel`: OpenTelemetry spans for extpoint's calls and plugin runs, made from its tracing channels
 * through `@opentelemetry/api` (an optional peer dependency: install it, and an SDK, to use this).
 *
 * A call's span is a child of the span active where the call was made (OpenTelemetry's `context.active()`,
 * so it needs a context manager, as any OpenTelemetry setup has); each plugin run's span is a child of its
 * call's span, found through a store bound to the `extpoint:call` start channel, so plugins that run after
 * an await are parented right too. A call made by a plugin while it runs synchronously is a child of that
 * plugin's span. Spans that the plugin code itself starts are children of the caller's active span, not
 * of the plugin's span: the adapter cannot make its spans current in OpenTelemetry's own context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext, trace, SpanKind, SpanStatusCode, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { callChannel, pluginChannel } from './channels.js';
import type { CallTrace, PluginTrace } from './payload.js';
import type { PluginResult } from '../core/types.js';

/** Options of `traceWithOpenTelemetry`. */
export interface OpenTelemetryOptions {
  /** The tracer to start spans with. Default: `tracerProvider.getTracer('extpoint')`. */
  tracer?: Tracer;
  /** Where to get the tracer from when `tracer` is not given. Default: the global provider (`trace`). */
  tracerProvider?: TracerProvider;
  /** Start a span per plugin run as well as per call. Default true. */
  plugins?: boolean;
}

/** A running OpenTelemetry adapter. */
export interface OpenTelemetryTracing {
  /** Stops making spans; when no other subscriber is left, the callers are rebuilt without tracing. */
  close(): void;
}

/** What the adapter keeps for one call while it runs. */
interface CallScope {
  readonly span: Span;
  /** The context the call was made in. */
  readonly made: Context;
  /** Plugin runs of this call not ended yet. */
  readonly open: Set<PluginTrace>;
  /** The span of the plugin running synchronously right now, or null. */
  running: Span | null;
}

const ATTR = {
  kind: 'extpoint.call.kind',
  module: 'extpoint.module',
  point: 'extpoint.point',
  node: 'extpoint.node',
  plugins: 'extpoint.call.plugins',
  exits: 'extpoint.call.exits',
  plugin: 'extpoint.plugin.fn',
  pluginModule: 'extpoint.plugin.module',
  state: 'extpoint.plugin.state',
} as const;

const KEYS = ['tracer', 'tracerProvider', 'plugins'];

/**
 * Starts making spans for every extpoint call in this process (every extension instance) until `close()`.
 *
 * @example
 * const tracing = traceWithOpenTelemetry({ tracerProvider: provider });
 * // ... calls make spans ...
 * tracing.close();
 */
export function traceWithOpenTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryTracing {
  if (options === null || typeof options !== 'object') throw new TypeError('extpoint/otel: options must be an object');
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new TypeError(`extpoint/otel: unknown option ${JSON.stringify(key)}; the options are ${KEYS.join(', ')}`);
  }
  if (options.plugins !== undefined && typeof options.plugins !== 'boolean') {
    throw new TypeError(`extpoint/otel: plugins must be true or false, not ${String(options.plugins)}`);
  }
  const tracer = options.tracer ?? (options.tracerProvider ?? trace).getTracer('extpoint');
  const scopes = new AsyncLocalStorage<CallScope | undefined>();
  // what this adapter keeps on a message: under symbols of its own (a WeakMap per short-lived message costs the GC dearly)
  const SCOPE = Symbol('extpoint.otel.scope');
  const SPAN = Symbol('extpoint.otel.span');
  type CallKept = CallTrace & { [SCOPE]?: CallScope | undefined };
  type RunKept = PluginTrace & { [SPAN]?: Span | undefined; [SCOPE]?: CallScope | undefined };

  /** Starts the call's span: runs as the call's store is entered, before `start` is published. */
  const enter = (m: CallTrace): CallScope | undefined => {
    try {
      const made = otelContext.active();
      const outer = scopes.getStore();
      // a call made synchronously by a plugin of a traced call, in the context that call was made in
      const parent = outer !== undefined && outer.running !== null && outer.made === made ? trace.setSpan(made, outer.running) : made;
      const span = tracer.startSpan(
        `${m.kind} ${m.module}/${m.point}`,
        { kind: SpanKind.INTERNAL, attributes: { [ATTR.kind]: m.kind, [ATTR.module]: m.module, [ATTR.point]: m.point, [ATTR.node]: m.node } },
        parent,
      );
      const scope: CallScope = { span, made, open: new Set(), running: null };
      (m as CallKept)[SCOPE] = scope;
      return scope;
    } catch {
      return undefined;
    }
  };

  const endCall = (m: CallTrace): void => {
    const scope = (m as CallKept)[SCOPE];
    if (scope === undefined) return;
    (m as CallKept)[SCOPE] = undefined;
    const { span } = scope;
    const results = Array.isArray(m.result) && (m.kind === 'call' || m.kind === 'callSync') ? (m.result as PluginResult[]) : null;
    if (results !== null) {
      span.setAttribute(ATTR.plugins, results.length);
      span.setAttribute(ATTR.exits, results.filter((r) => r.state === 'EXIT').length);
    }
    if (m.error !== undefined) failed(span, m.error);
    // plugin runs the call did not wait for (past its timeout): ended with what the call made of them
    for (const run of scope.open) {
      const result = results?.find((r) => r.info.module === run.pluginModule && r.info.node === run.node);
      const runSpan = (run as RunKept)[SPAN];
      (run as RunKept)[SPAN] = undefined;
      if (runSpan === undefined) continue;
      if (result !== undefined) {
        runSpan.setAttribute(ATTR.state, result.state);
        if (result.state === 'EXIT') failed(runSpan, result.data);
      }
      runSpan.end();
    }
    span.end();
  };

  const callHandlers = {
    start: () => {},
    end: (msg: unknown) => {
      const m = msg as CallTrace;
      // sync kinds end here; async ones at asyncEnd, unless they threw before returning a promise
      if (m.kind === 'callSync' || m.kind === 'notify' || m.error !== undefined) endCall(m);
    },
    asyncStart: () => {},
    asyncEnd: (msg: unknown) => endCall(msg as CallTrace),
    error: () => {},
  };

  const endRun = (m: PluginTrace, scope: CallScope | undefined): void => {
    const span = (m as RunKept)[SPAN];
    if (span === undefined) return;
    (m as RunKept)[SPAN] = undefined;
    scope?.open.delete(m);
    span.setAttribute(ATTR.state, m.state ?? 'EXIT');
    if (m.state === 'EXIT') failed(span, m.error);
    span.end();
  };

  const pluginHandlers = {
    start: (msg: unknown) => {
      const m = msg as PluginTrace;
      const scope = scopes.getStore();
      const parent = scope !== undefined ? trace.setSpan(otelContext.active(), scope.span) : otelContext.active();
      const span = tracer.startSpan(
        `plugin ${m.pluginModule} ${m.module}/${m.point}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            [ATTR.kind]: m.kind,
            [ATTR.module]: m.module,
            [ATTR.point]: m.point,
            [ATTR.node]: m.node,
            [ATTR.plugin]: m.plugin,
            [ATTR.pluginModule]: m.pluginModule,
          },
        },
        parent,
      );
      (m as RunKept)[SPAN] = span;
      if (scope !== undefined) {
        scope.open.add(m);
        scope.running = span;
        (m as RunKept)[SCOPE] = scope;
      }
    },
    end: (msg: unknown) => {
      const m = msg as PluginTrace;
      const scope = (m as RunKept)[SCOPE];
      if (scope !== undefined) scope.running = null;
      if (m.state !== undefined) endRun(m, scope);
    },
    asyncStart: () => {},
    asyncEnd: (msg: unknown) => endRun(msg as PluginTrace, (msg as RunKept)[SCOPE]),
    error: () => {},
  };

  callChannel.start.bindStore(scopes, enter);
  callChannel.subscribe(callHandlers);
  if (options.plugins !== false) pluginChannel.subscribe(pluginHandlers);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      if (options.plugins !== false) pluginChannel.unsubscribe(pluginHandlers);
      callChannel.unsubscribe(callHandlers);
      callChannel.start.unbindStore(scopes);
    },
  };
}

function failed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
