/**
 * extpoint's diagnostics_channel tracing: the callers are rebuilt traced when the first subscriber comes
 * and untraced when the last leaves, the events carry the documented payloads, and a traced call gives
 * exactly the results of an untraced one.
 */
import dc from 'node:diagnostics_channel';
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createExtension, halt, type Extension, type PluginResult } from '../src/index.js';
import { CALL_CHANNEL, PLUGIN_CHANNEL, type CallTrace, type PluginTrace } from '../src/index.js';
import { tracing } from '../src/trace/channels.js';
import { isExtpointError, EASYNC, ETIMEOUT } from '../src/index.js';

type Event = [string, string, Record<string, unknown>];

const make = (): Extension => createExtension({ scanLoaded: false });
const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

/** Subscribes to both tracing channels; each event is recorded as [channel, event, a copy of the message]. */
function record(): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  const handlers = (name: string) =>
    Object.fromEntries(EVENTS.map((e) => [e, (m: unknown) => events.push([name, e, { ...(m as object) }])])) as dc.TracingChannelSubscribers<object>;
  const call = handlers('call');
  const plugin = handlers('plugin');
  dc.tracingChannel(CALL_CHANNEL).subscribe(call);
  dc.tracingChannel(PLUGIN_CHANNEL).subscribe(plugin);
  return {
    events,
    stop: () => {
      dc.tracingChannel(CALL_CHANNEL).unsubscribe(call);
      dc.tracingChannel(PLUGIN_CHANNEL).unsubscribe(plugin);
    },
  };
}

/** The point's current sync caller, as the registry holds it. */
const callerOf = (ext: Extension, module: string, point: string) =>
  (ext as unknown as { registry: { find(m: string, p: string): { callSync: Function; call: Function } } }).registry.find(module, point);

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  expect(tracing).toEqual({ call: false, plugin: false });
});
function recording() {
  const r = record();
  stops.push(r.stop);
  return r;
}

/** Plugins covering every outcome: a value, a throw, a promise, a rejection. */
function mixed(ext: Extension): void {
  ext.registerModule('a', { host_p_Plugin: (x: number) => x + 1 });
  ext.registerModule('b', {
    host_p_Plugin: () => {
      throw new Error('b failed');
    },
  });
  ext.registerModule('c', { host_p_Plugin: async (x: number) => x * 2 });
  ext.registerModule('d', { host_p_Plugin: async () => Promise.reject(new Error('d failed')) });
}

/** Results without the error objects' identity, for comparing a traced call with an untraced one. */
const shape = (results: PluginResult[]) =>
  results.map((r) => ({ state: r.state, info: r.info, data: r.data instanceof Error ? `${r.data.name}: ${r.data.message}` : r.data }));

describe('tracing channels', () => {
  it('no subscriber: the generated callers are the untraced ones; a subscriber rebuilds them, its leaving rebuilds them again', () => {
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: (x: number) => x + 1 });
    ext.callPluginsSync('host', 'p', 1);
    expect(callerOf(ext, 'host', 'p').callSync.name).toBe('dispatch');
    const r = recording();
    expect(tracing).toEqual({ call: true, plugin: true });
    ext.callPluginsSync('host', 'p', 1);
    expect(callerOf(ext, 'host', 'p').callSync.name).not.toBe('dispatch');
    expect(r.events.length).toBeGreaterThan(0);
    r.stop();
    expect(tracing).toEqual({ call: false, plugin: false });
    const before = r.events.length;
    expect(ext.callPluginsSync('host', 'p', 1)[0]!.data).toBe(2);
    expect(callerOf(ext, 'host', 'p').callSync.name).toBe('dispatch');
    expect(r.events.length).toBe(before);
  });

  it('callSync publishes call start, each plugin start/end (error for an EXIT), then call end with the results', () => {
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: (x: number) => x + 1 });
    ext.registerModule('b', {
      host_p_Plugin: () => {
        throw new Error('nope');
      },
    });
    const r = recording();
    const results = ext.callPluginsSync('host', 'p', 5);
    expect(r.events.map(([c, e]) => `${c}:${e}`)).toEqual([
      'call:start',
      'plugin:start',
      'plugin:end',
      'plugin:start',
      'plugin:error',
      'plugin:end',
      'call:end',
    ]);
    expect(r.events[0]![2]).toEqual({ kind: 'callSync', module: 'host', point: 'p', node: 'local', args: 5 });
    expect(r.events[2]![2]).toEqual({
      kind: 'callSync',
      module: 'host',
      point: 'p',
      plugin: 'host_p_Plugin',
      pluginModule: 'a',
      node: 'local',
      args: 5,
      state: 'ok',
      result: 6,
    });
    expect(r.events[4]![2]).toMatchObject({ pluginModule: 'b', state: 'EXIT', error: results[1]!.data });
    expect(r.events[6]![2].result).toBe(results);
  });

  it('a traced call gives the results of an untraced one, for every kind of call', async () => {
    const plain = make();
    mixed(plain);
    const expected = {
      sync: shape(plain.callPluginsSync('host', 'p', 3)),
      async: shape(await plain.callPlugins('host', 'p', 3)),
      parallel: shape(await plain.callPlugins('host', 'p', 3, { parallel: true })),
    };
    const traced = make();
    mixed(traced);
    const r = recording();
    expect(shape(traced.callPluginsSync('host', 'p', 3))).toEqual(expected.sync);
    expect(shape(await traced.callPlugins('host', 'p', 3))).toEqual(expected.async);
    expect(shape(await traced.callPlugins('host', 'p', 3, { parallel: true }))).toEqual(expected.parallel);
    expect(expected.async.map((x) => x.state)).toEqual(['ok', 'EXIT', 'ok', 'EXIT']);
    expect(r.events.filter(([c, e]) => c === 'call' && e === 'start')).toHaveLength(3);
  });

  it('callPlugins publishes asyncStart/asyncEnd for the call and for each plugin promise, error for a rejection', async () => {
    const ext = make();
    mixed(ext);
    const r = recording();
    const results = await ext.callPlugins('host', 'p', 3);
    const call = r.events.filter(([c]) => c === 'call');
    expect(call.map(([, e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(call[3]![2]).toMatchObject({ kind: 'call', result: results });
    const byModule = (m: string) => r.events.filter(([c, , msg]) => c === 'plugin' && msg.pluginModule === m).map(([, e]) => e);
    expect(byModule('a')).toEqual(['start', 'end']);
    expect(byModule('b')).toEqual(['start', 'error', 'end']);
    expect(byModule('c')).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(byModule('d')).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const dEnd = r.events.filter(([c, e, msg]) => c === 'plugin' && e === 'asyncEnd' && msg.pluginModule === 'd')[0]![2];
    expect(dEnd).toMatchObject({ state: 'EXIT', error: results[3]!.data });
    const cEnd = r.events.filter(([c, e, msg]) => c === 'plugin' && e === 'asyncEnd' && msg.pluginModule === 'c')[0]![2];
    expect(cEnd).toMatchObject({ state: 'ok', result: 6 });
  });

  it('a promise returned to a sync call publishes an EASYNC error, as the result says', () => {
    const ext = make();
    ext.registerModule('c', { host_p_Plugin: async () => 1 });
    const r = recording();
    const [result] = ext.callPluginsSync('host', 'p');
    expect(result!.state).toBe('EXIT');
    const error = r.events.find(([c, e]) => c === 'plugin' && e === 'error')![2];
    expect(error.state).toBe('EXIT');
    expect(isExtpointError(error.error) && error.error.code).toBe(EASYNC);
  });

  it('notify and pipe publish too; pipe ends with the final state', async () => {
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: (s: { n: number }) => ({ n: s.n + 1 }) });
    ext.registerModule('b', { host_p_Plugin: async (s: { n: number }) => halt({ n: s.n * 10 }) });
    ext.registerModule('c', { host_p_Plugin: (s: { n: number }) => ({ n: -1 }) });
    const r = recording();
    expect(await ext.pipe('host', 'p', { n: 1 })).toEqual({ n: 20 });
    const call = r.events.filter(([c]) => c === 'call');
    expect(call.map(([, e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(call[3]![2]).toMatchObject({ kind: 'pipe', args: { n: 1 }, result: { n: 20 } });
    expect(r.events.filter(([c, e]) => c === 'plugin' && e === 'start').map(([, , m]) => m.pluginModule)).toEqual(['a', 'b']);
    r.events.length = 0;
    ext.notify('host', 'p', { n: 1 });
    expect(r.events.filter(([c]) => c === 'call').map(([, e, m]) => `${e}:${m.kind}`)).toEqual(['start:notify', 'end:notify']);
  });

  it('point handles publish, and a refused call publishes the call error', async () => {
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: () => 1 });
    const point = ext.point('host', 'p');
    const r = recording();
    expect(point.callSync()[0]!.data).toBe(1);
    await expect(point.call(undefined, { bogus: true } as never)).rejects.toThrow(/bogus/);
    const errors = r.events.filter(([c, e]) => c === 'call' && e === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]![2]).toMatchObject({ kind: 'call', error: expect.any(TypeError) });
  });

  it('a plugin past its timeout: the call result says ETIMEOUT; the plugin run ends when the plugin settles', async () => {
    const ext = make();
    let finish: (v: number) => void = () => {};
    ext.registerModule('slow', { host_p_Plugin: () => new Promise<number>((resolve) => (finish = resolve)) });
    const r = recording();
    const [result] = await ext.callPlugins('host', 'p', undefined, { timeoutMs: 20 });
    expect(isExtpointError(result!.data) && result!.data.code).toBe(ETIMEOUT);
    expect(r.events.filter(([c, e]) => c === 'call' && e === 'asyncEnd')[0]![2].result).toEqual([result]);
    expect(r.events.some(([c, e]) => c === 'plugin' && e === 'asyncEnd')).toBe(false);
    finish(7);
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.events.find(([c, e]) => c === 'plugin' && e === 'asyncEnd')![2]).toMatchObject({ state: 'ok', result: 7 });
  });

  it('a subscriber of one event channel only (diagnostics_channel.subscribe by name) switches tracing on and off', () => {
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: () => 1 });
    ext.callPluginsSync('host', 'p');
    const seen: unknown[] = [];
    const onEnd = (m: unknown) => seen.push((m as PluginTrace).result);
    dc.subscribe('tracing:extpoint:plugin:end', onEnd);
    expect(tracing).toEqual({ call: false, plugin: true });
    ext.callPluginsSync('host', 'p');
    expect(seen).toEqual([1]);
    expect(callerOf(ext, 'host', 'p').callSync.name).toBe('dispatch');
    dc.unsubscribe('tracing:extpoint:plugin:end', onEnd);
    expect(tracing).toEqual({ call: false, plugin: false });
    ext.callPluginsSync('host', 'p');
    expect(seen).toEqual([1]);
  });

  it('a store bound to the call start channel is current in every plugin run, after awaits too', async () => {
    const store = new AsyncLocalStorage<CallTrace>();
    const call = dc.tracingChannel<CallTrace>(CALL_CHANNEL);
    call.start.bindStore(store, (m) => m);
    stops.push(() => call.start.unbindStore(store));
    const seen: (string | undefined)[] = [];
    const onStart = (m: unknown) => seen.push(`${(m as PluginTrace).pluginModule} in ${store.getStore()?.kind}`);
    dc.subscribe('tracing:extpoint:plugin:start', onStart);
    stops.push(() => dc.unsubscribe('tracing:extpoint:plugin:start', onStart));
    const ext = make();
    ext.registerModule('a', { host_p_Plugin: async () => new Promise((resolve) => setTimeout(resolve, 5)) });
    ext.registerModule('b', { host_p_Plugin: () => 2 });
    await ext.callPlugins('host', 'p');
    expect(seen).toEqual(['a in call', 'b in call']);
  });
});

describe('two copies of extpoint in one process', () => {
  it("each hears of subscriptions: the second copy chains the first copy's methods", async () => {
    const first = await import('../src/trace/channels.js');
    // the built package (made by the global setup) is a second copy, loaded beside the sources
    const second = (await import('../dist/trace/channels.js')) as typeof first;
    expect(second.tracing).not.toBe(first.tracing);
    const noop = () => {};
    dc.subscribe('tracing:extpoint:call:asyncEnd', noop);
    try {
      expect(first.tracing.call).toBe(true);
      expect(second.tracing.call).toBe(true);
    } finally {
      dc.unsubscribe('tracing:extpoint:call:asyncEnd', noop);
    }
    expect(first.tracing.call).toBe(false);
    expect(second.tracing.call).toBe(false);
  });
});

describe('sync calls of a point with worker-node plugins', () => {
  it('publish the call, and each in-process plugin run, while the worker plugins cross as one batch', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'extpoint-trace-sync-'));
    await writeFile(join(dir, 'far.mjs'), `export function app_hello_Plugin(a) { return 'far ' + a; }\n`);
    const ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: [{ path: dir, node: 'sandbox', isolation: 'worker', callTimeoutMs: 5000 }] });
    try {
      await ext.start();
      ext.registerModule('near', { app_hello_Plugin: (a: string) => `near ${a}` });
      const untraced = ext.callPluginsSync('app', 'hello', 'x').map((r) => [r.info.node, r.state, r.data]);
      const r = recording();
      const traced = ext.callPluginsSync('app', 'hello', 'x').map((r) => [r.info.node, r.state, r.data]);
      expect(traced).toEqual(untraced);
      expect(traced).toEqual(expect.arrayContaining([['sandbox', 'ok', 'far x'], ['local', 'ok', 'near x']]));
      expect(r.events.filter(([c, e]) => c === 'call' && e === 'start')).toHaveLength(1);
      const pluginStarts = r.events.filter(([c, e]) => c === 'plugin' && e === 'start').map(([, , m]) => (m as PluginTrace).pluginModule);
      expect(pluginStarts).toEqual(['near']);
    } finally {
      await ext.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
