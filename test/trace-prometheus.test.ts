/**
 * extpoint/prometheus: counters, duration histograms and node gauges, checked by scraping a prom-client
 * registry's text output. One test runs a real worker node to see its gauge go from up to down.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createExtension, type Extension } from '../src/index.js';
import { collectPrometheusMetrics, type PrometheusMetrics } from '../src/trace/prometheus.js';
import { tracing } from '../src/trace/channels.js';

let metrics: PrometheusMetrics | null = null;
let ext: Extension | null = null;
let dir: string | null = null;
afterEach(async () => {
  metrics?.close();
  metrics = null;
  await ext?.stop();
  ext = null;
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
  expect(tracing).toEqual({ call: false, plugin: false });
});

/** The value of one sample line of the scrape, or undefined when there is no such line. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[2]!.split(',');
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

describe('extpoint/prometheus', () => {
  it('counts calls and plugin runs by module, point, plugin, node and state, and times them', async () => {
    const registry = new Registry();
    ext = createExtension({ scanLoaded: false });
    ext.registerModule('a', { shop_price_Plugin: (x: number) => x + 1 });
    ext.registerModule('b', {
      shop_price_Plugin: (x: number) => {
        if (x > 1) throw new Error('too big');
        return x;
      },
    });
    ext.registerModule('c', { shop_price_Plugin: async (x: number) => x * 2 });
    metrics = collectPrometheusMetrics({ registry });
    ext.callPluginsSync('shop', 'price', 1);
    await ext.callPlugins('shop', 'price', 2);
    await ext.callPlugins('shop', 'price', 3);
    await expect(ext.callPlugins('shop', 'price', 3, { bad: 1 } as never)).rejects.toThrow(/bad/);
    const text = await registry.metrics();
    const base = { module: 'shop', point: 'price', node: 'local' };
    expect(sample(text, 'extpoint_calls_total', { ...base, kind: 'callSync', state: 'ok' })).toBe(1);
    expect(sample(text, 'extpoint_calls_total', { ...base, kind: 'call', state: 'ok' })).toBe(2);
    expect(sample(text, 'extpoint_calls_total', { ...base, kind: 'call', state: 'error' })).toBe(1);
    expect(sample(text, 'extpoint_call_duration_seconds_count', { ...base, kind: 'call' })).toBe(3);
    expect(sample(text, 'extpoint_plugin_runs_total', { ...base, plugin: 'a', state: 'ok' })).toBe(3);
    expect(sample(text, 'extpoint_plugin_runs_total', { ...base, plugin: 'b', state: 'ok' })).toBe(1);
    expect(sample(text, 'extpoint_plugin_runs_total', { ...base, plugin: 'b', state: 'EXIT' })).toBe(2);
    expect(sample(text, 'extpoint_plugin_runs_total', { ...base, plugin: 'c', state: 'ok' })).toBe(2);
    // a promise returned to a sync call is an EXIT (EASYNC)
    expect(sample(text, 'extpoint_plugin_runs_total', { ...base, plugin: 'c', state: 'EXIT' })).toBe(1);
    expect(sample(text, 'extpoint_plugin_duration_seconds_count', { ...base, plugin: 'b', state: 'EXIT' })).toBe(2);
    expect(sample(text, 'extpoint_plugin_duration_seconds_bucket', { ...base, plugin: 'b', state: 'EXIT', le: '+Inf' })).toBe(2);
    expect(text).toContain('# TYPE extpoint_plugin_duration_seconds histogram');
    expect(text).not.toContain('extpoint_node_up');
  });

  it('close() stops counting and removes the metrics; the options are checked', async () => {
    const registry = new Registry();
    ext = createExtension({ scanLoaded: false });
    ext.registerModule('a', { shop_price_Plugin: () => 1 });
    metrics = collectPrometheusMetrics({ registry, prefix: 'shop_', plugins: false });
    ext.callPluginsSync('shop', 'price');
    let text = await registry.metrics();
    expect(sample(text, 'shop_calls_total', { module: 'shop', point: 'price', node: 'local', kind: 'callSync', state: 'ok' })).toBe(1);
    expect(text).not.toContain('plugin_runs_total');
    metrics.close();
    metrics = null;
    text = await registry.metrics();
    expect(text).not.toContain('shop_calls_total');
    expect(() => collectPrometheusMetrics({} as never)).toThrow(/registry must be a prom-client Registry/);
    expect(() => collectPrometheusMetrics({ registry, prefx: 'x' } as never)).toThrow(/unknown option "prefx"/);
    expect(() => collectPrometheusMetrics({ registry, prefix: '1x' })).toThrow(/prefix must be/);
    expect(() => collectPrometheusMetrics({ registry, buckets: [] })).toThrow(/buckets must be/);
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('reports node up/down gauges from report().nodes, and counts plugin runs on a worker node under its name', async () => {
    dir = await mkdtemp(join(tmpdir(), 'extpoint-prom-'));
    await writeFile(join(dir, 'far.mjs'), `export function app_hello_Plugin(a) { return 'far ' + a; }\n`);
    const registry = new Registry();
    ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: [{ path: dir, node: 'sandbox', isolation: 'worker', callTimeoutMs: 5000 }] });
    await ext.start();
    metrics = collectPrometheusMetrics({ registry, extension: ext });
    const [r] = await ext.callPlugins('app', 'hello', 'x');
    expect(r).toMatchObject({ state: 'ok', data: 'far x' });
    let text = await registry.metrics();
    expect(sample(text, 'extpoint_node_up', { node: 'local', kind: 'local' })).toBe(1);
    expect(sample(text, 'extpoint_node_up', { node: 'sandbox', kind: 'worker' })).toBe(1);
    expect(sample(text, 'extpoint_plugin_runs_total', { module: 'app', point: 'hello', plugin: 'far', node: 'sandbox', state: 'ok' })).toBe(1);
    await ext.stop();
    text = await registry.metrics();
    expect(sample(text, 'extpoint_node_up', { node: 'sandbox', kind: 'worker' })).toBe(0);
  });
});
