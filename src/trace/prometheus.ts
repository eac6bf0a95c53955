/**
 * `extpoint/prometheus`: Prometheus metrics of extpoint's calls, plugin runs and nodes, fed by its tracing
 * channels and registered on a `prom-client` registry the user passes (prom-client is an optional peer
 * dependency: install it to use this).
 *
 * Counters and duration histograms per module, point, plugin, node and state; a node up/down gauge read
 * from `report().nodes` at each scrape. A plugin's run is counted when the plugin returns or its promise
 * settles, with its own outcome: a plugin cut off by a call's `timeoutMs` is counted when (if ever) it
 * settles, while the call's `ETIMEOUT` result shows in the report's counters.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { callChannel, pluginChannel } from './channels.js';
import type { CallTrace, PluginTrace } from './payload.js';

/** What the node gauge reads of an extension: `Extension` fits. */
export interface NodesSource {
  report(): { readonly nodes: readonly { readonly node: string; readonly kind: string; readonly status: string }[] };
}

/** Options of `collectPrometheusMetrics`. */
export interface PrometheusOptions {
  /** The prom-client registry to register the metrics on. Required. */
  registry: Registry;
  /** An extension whose nodes the `<prefix>node_up` gauge reports; without it there is no node gauge. */
  extension?: NodesSource;
  /** Prefix of every metric name. Default `'extpoint_'`. */
  prefix?: string;
  /** Histogram buckets, in seconds. Default prom-client's, from 5 ms to 10 s, with 50 µs to 1 ms added. */
  buckets?: number[];
  /** Also count and time each plugin run. Default true. */
  plugins?: boolean;
}

/** Running Prometheus metrics. */
export interface PrometheusMetrics {
  /** Stops collecting and removes the metrics from the registry. */
  close(): void;
}

const KEYS = ['registry', 'extension', 'prefix', 'buckets', 'plugins'];
const DEFAULT_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Where a message's start time is kept: a key of this module's own, on the message object. */
const STARTED = Symbol('extpoint.prometheus.started');
type Timed = { [STARTED]?: number };
type CallSeries = { readonly labels: Record<'module' | 'point' | 'node' | 'kind', string>; ok: number; error: number; readonly seconds: Histogram.Internal<string> };
type RunSeries = { readonly labels: Record<'module' | 'point' | 'plugin' | 'node' | 'state', string>; count: number; readonly seconds: Histogram.Internal<string> };

/**
 * Starts collecting metrics of every extpoint call in this process into `options.registry`, until `close()`.
 * The metrics (with the default prefix):
 * - `extpoint_calls_total{module, point, node, kind, state}`: calls; `state` is `ok`, or `error` when the
 *   call itself threw or rejected (refused, bad options).
 * - `extpoint_call_duration_seconds{module, point, node, kind}`: how long calls took, to their promise's end.
 * - `extpoint_plugin_runs_total{module, point, plugin, node, state}`: plugin runs; `plugin` is the plugin's
 *   module, `state` is `ok` or `EXIT`.
 * - `extpoint_plugin_duration_seconds{module, point, plugin, node, state}`: how long plugin runs took.
 * - `extpoint_node_up{node, kind}`: 1 while a node is up, 0 otherwise (with `extension`).
 */
export function collectPrometheusMetrics(options: PrometheusOptions): PrometheusMetrics {
  if (options === null || typeof options !== 'object') throw new TypeError('extpoint/prometheus: options must be an object with a registry');
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new TypeError(`extpoint/prometheus: unknown option ${JSON.stringify(key)}; the options are ${KEYS.join(', ')}`);
  }
  const { registry, extension, prefix = 'extpoint_', buckets = DEFAULT_BUCKETS, plugins = true } = options;
  if (registry === undefined || typeof (registry as Partial<Registry>).registerMetric !== 'function') {
    throw new TypeError("extpoint/prometheus: registry must be a prom-client Registry (new Registry(), or prom-client's `register`)");
  }
  if (extension !== undefined && typeof extension?.report !== 'function') {
    throw new TypeError('extpoint/prometheus: extension must be an extpoint Extension (something with report())');
  }
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
    throw new TypeError(`extpoint/prometheus: prefix must be letters, digits, _ and : not starting with a digit, not ${String(prefix)}`);
  }
  if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b) => typeof b === 'number' && b > 0)) {
    throw new TypeError('extpoint/prometheus: buckets must be a non-empty array of positive numbers of seconds');
  }
  if (typeof plugins !== 'boolean') throw new TypeError(`extpoint/prometheus: plugins must be true or false, not ${String(plugins)}`);

  const registers = [registry];
  const names: string[] = [];
  const named = (name: string) => (names.push(prefix + name), prefix + name);
  // Counts are kept in the series objects below and added to the counters when the registry is scraped:
  // prom-client hashes the labels on every inc, which would cost more than the call it counts.
  const callSeries = new Set<CallSeries>();
  const runSeries = new Set<RunSeries>();
  const calls = new Counter({
    name: named('calls_total'),
    help: 'extpoint calls of a point',
    labelNames: ['module', 'point', 'node', 'kind', 'state'] as const,
    registers,
    collect() {
      for (const s of callSeries.values()) {
        if (s.ok > 0) calls.inc({ ...s.labels, state: 'ok' }, s.ok);
        if (s.error > 0) calls.inc({ ...s.labels, state: 'error' }, s.error);
        s.ok = s.error = 0;
      }
    },
  });
  const callSeconds = new Histogram({
    name: named('call_duration_seconds'),
    help: 'How long extpoint calls took, in seconds (async calls: until their promise settled)',
    labelNames: ['module', 'point', 'node', 'kind'] as const,
    buckets,
    registers,
  });
  const labels = ['module', 'point', 'plugin', 'node', 'state'] as const;
  const runs: Counter<(typeof labels)[number]> | null = plugins
    ? new Counter({
        name: named('plugin_runs_total'),
        help: 'Plugin runs in extpoint calls, by outcome',
        labelNames: labels,
        registers,
        collect() {
          for (const s of runSeries.values()) {
            if (s.count > 0) runs!.inc(s.labels, s.count);
            s.count = 0;
          }
        },
      })
    : null;
  const runSeconds = plugins
    ? new Histogram({ name: named('plugin_duration_seconds'), help: 'How long plugin runs took, in seconds', labelNames: labels, buckets, registers })
    : null;
  if (extension !== undefined) {
    const up: Gauge<'node' | 'kind'> = new Gauge({
      name: named('node_up'),
      help: 'Whether an extpoint node is up (1) or restarting or down (0)',
      labelNames: ['node', 'kind'] as const,
      registers,
      collect() {
        up.reset();
        for (const row of extension.report().nodes) up.set({ node: row.node, kind: row.kind }, row.status === 'up' ? 1 : 0);
      },
    });
  }

  // each series found through maps keyed by the names themselves (the very strings of the point and the
  // plugin, whose hashes V8 keeps): no key string or label object is built per event
  const callIndex = new Map<string, Map<string, Map<string, Map<string, CallSeries>>>>();
  const seriesOfCall = (m: CallTrace): CallSeries => {
    let a = callIndex.get(m.module);
    if (a === undefined) callIndex.set(m.module, (a = new Map()));
    let b = a.get(m.point);
    if (b === undefined) a.set(m.point, (b = new Map()));
    let c = b.get(m.node);
    if (c === undefined) b.set(m.node, (c = new Map()));
    let s = c.get(m.kind);
    if (s === undefined) {
      const base = { module: m.module, point: m.point, node: m.node, kind: m.kind };
      s = { labels: base, ok: 0, error: 0, seconds: callSeconds.labels(base) };
      callSeries.add(s);
      c.set(m.kind, s);
    }
    return s;
  };
  const runIndex = new Map<string, Map<string, Map<string, Map<string, RunSeries[]>>>>();
  const seriesOfRun = (m: PluginTrace, state: 'ok' | 'EXIT'): RunSeries => {
    let a = runIndex.get(m.module);
    if (a === undefined) runIndex.set(m.module, (a = new Map()));
    let b = a.get(m.point);
    if (b === undefined) a.set(m.point, (b = new Map()));
    let c = b.get(m.pluginModule);
    if (c === undefined) b.set(m.pluginModule, (c = new Map()));
    let pair = c.get(m.node);
    if (pair === undefined) {
      pair = (['ok', 'EXIT'] as const).map((st) => {
        const l = { module: m.module, point: m.point, plugin: m.pluginModule, node: m.node, state: st };
        const series: RunSeries = { labels: l, count: 0, seconds: runSeconds!.labels(l) };
        runSeries.add(series);
        return series;
      });
      c.set(m.node, pair);
    }
    return pair[state === 'ok' ? 0 : 1]!;
  };
  const started = (m: object) => {
    (m as Timed)[STARTED] = performance.now();
  };
  const seconds = (m: object) => (performance.now() - ((m as Timed)[STARTED] ?? performance.now())) / 1000;
  const endCall = (m: CallTrace) => {
    const s = seriesOfCall(m);
    if (m.error === undefined) s.ok++;
    else s.error++;
    s.seconds.observe(seconds(m));
  };
  const callHandlers = {
    start: started,
    end: (msg: unknown) => {
      const m = msg as CallTrace;
      if (m.kind === 'callSync' || m.kind === 'notify' || m.error !== undefined) endCall(m);
    },
    asyncStart: () => {},
    asyncEnd: (msg: unknown) => endCall(msg as CallTrace),
    error: () => {},
  };
  const endRun = (m: PluginTrace) => {
    const s = seriesOfRun(m, m.state ?? 'EXIT');
    s.count++;
    s.seconds.observe(seconds(m));
  };
  const pluginHandlers = {
    start: started,
    end: (msg: unknown) => {
      if ((msg as PluginTrace).state !== undefined) endRun(msg as PluginTrace);
    },
    asyncStart: () => {},
    asyncEnd: (msg: unknown) => endRun(msg as PluginTrace),
    error: () => {},
  };
  callChannel.subscribe(callHandlers);
  if (plugins) pluginChannel.subscribe(pluginHandlers);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      if (plugins) pluginChannel.unsubscribe(pluginHandlers);
      callChannel.unsubscribe(callHandlers);
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
