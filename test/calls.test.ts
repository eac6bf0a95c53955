import { describe, expect, it } from 'vitest';
import { createExtension, type Extension, type PluginResult } from '../src/index.js';
import { GENERATED_MAX } from '../src/calls/target.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

const make = (node?: string): Extension => createExtension({ scanLoaded: false, ...(node ? { node } : {}) });

describe('callPluginsSync', () => {
  it('returns one result per plugin with info { node, module, fn }', () => {
    const ext = make();
    ext.registerModule('anat', { plugin_demo_point1_Plugin: (x: number) => x + 1 });
    ext.registerModule('plugin_demo', { plugin_demo_point1_Plugin: (x: number) => x * 2 });
    expect(ext.callPluginsSync('plugin_demo', 'point1', 5)).toEqual([
      { state: 'ok', info: { node: 'local', module: 'anat', fn: 'plugin_demo_point1_Plugin' }, data: 6 },
      { state: 'ok', info: { node: 'local', module: 'plugin_demo', fn: 'plugin_demo_point1_Plugin' }, data: 10 },
    ]);
  });

  it("uses the instance's node name", () => {
    const ext = make('node7');
    ext.registerModule('m', { host_p_Plugin: () => 1 });
    expect(ext.callPluginsSync('host', 'p')[0]!.info.node).toBe('node7');
  });

  it('returns [] for a point without plugins, a new array each time', () => {
    const ext = make();
    const a = ext.callPluginsSync('nobody', 'here');
    const b = ext.callPluginsSync('nobody', 'here');
    expect(a).toEqual([]);
    expect(a).not.toBe(b);
  });

  it('orders plugins by module name in code-unit order, never locale order', () => {
    const ext = make();
    for (const name of ['plugin_demo', 'plugin2', 'alpha', 'Zeta']) {
      ext.registerModule(name, { host_p_Plugin: () => name });
    }
    expect(ext.callPluginsSync('host', 'p').map((r) => r.data)).toEqual(['Zeta', 'alpha', 'plugin2', 'plugin_demo']);
  });

  it('makes every thrown value an EXIT carrying the value itself', () => {
    const ext = make();
    const error = new Error('boom');
    ext.registerModule('a', { h_p_Plugin: () => { throw error; } });
    ext.registerModule('b', { h_p_Plugin: () => { throw 'a string'; } });
    ext.registerModule('c', { h_p_Plugin: () => { throw undefined; } });
    ext.registerModule('d', { h_p_Plugin: () => ({ state: 'EXIT', data: 'looks like a failure' }) });
    const results = ext.callPluginsSync('h', 'p');
    expect(results.map((r) => r.state)).toEqual(['EXIT', 'EXIT', 'EXIT', 'ok']);
    expect(results[0]!.data).toBe(error);
    expect(results[1]!.data).toBe('a string');
    expect(results[2]!.data).toBeUndefined();
    expect('data' in results[2]!).toBe(true);
    expect(results[3]!.data).toEqual({ state: 'EXIT', data: 'looks like a failure' });
  });

  it('never lets a plugin see or change the dispatcher (plain call, no receiver)', () => {
    const ext = make();
    let receiver: unknown = 'unset';
    ext.registerModule('a', {
      h_p_Plugin: function (this: unknown) {
        receiver = this;
        return 1;
      },
    });
    ext.callPluginsSync('h', 'p');
    expect(receiver).toBeUndefined();
  });

  it('shares one frozen info object per plugin', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => 1 });
    const [first] = ext.callPluginsSync('h', 'p');
    const [second] = ext.callPluginsSync('h', 'p');
    expect(first!.info).toBe(second!.info);
    expect(Object.isFrozen(first!.info)).toBe(true);
  });

  it('turns a promise returned to a sync call into EASYNC without an unhandled rejection', async () => {
    await noUnhandledRejections(async () => {
      const ext = make();
      ext.registerModule('a', { h_p_Plugin: () => Promise.reject(new Error('late failure')) });
      ext.registerModule('b', { h_p_Plugin: () => ({ then: (_ok: unknown, fail: (e: unknown) => void) => fail('thenable') }) });
      const results = ext.callPluginsSync('h', 'p');
      expect(results.map((r) => r.state)).toEqual(['EXIT', 'EXIT']);
      for (const r of results) {
        expect((r.data as { code?: string }).code).toBe('EASYNC');
        expect(String((r.data as Error).message)).toContain('callPlugins');
      }
    });
  });

  it('throws a TypeError naming a bad module or point', () => {
    const ext = make();
    expect(() => ext.callPluginsSync('bad name', 'p')).toThrow(/invalid module name "bad name"/);
    expect(() => ext.callPluginsSync('m', 'under_score')).toThrow(/invalid point name "under_score"/);
    expect(() => ext.callPluginsSync(42 as unknown as string, 'p')).toThrow(TypeError);
  });

  it(`uses a loop beyond ${GENERATED_MAX} plugins with the same results and counters`, async () => {
    const ext = make();
    const n = GENERATED_MAX + 8;
    const names = Array.from({ length: n }, (_, i) => `m${String(i).padStart(3, '0')}`);
    for (const [i, name] of names.entries()) {
      ext.registerModule(name, { h_p_Plugin: (x: number) => { if (i === 3) throw new Error('three'); return x + i; } });
    }
    const results = ext.callPluginsSync('h', 'p', 100);
    expect(results.map((r) => r.info.module)).toEqual(names);
    expect(results[3]!.state).toBe('EXIT');
    expect(results[4]).toMatchObject({ state: 'ok', data: 104 });
    expect(ext.report().points[0]).toMatchObject({ ok: n - 1, exit: 1 });
    const asyncResults = await ext.callPlugins('h', 'p', 100);
    expect(asyncResults.map((r) => r.state)).toEqual(results.map((r) => r.state));
    expect(ext.report().points[0]).toMatchObject({ ok: 2 * (n - 1), exit: 2 });
  });
});

describe('notify', () => {
  it('runs every plugin, returns nothing, and keeps counters and exit reasons exact', () => {
    const ext = make();
    const seen: unknown[] = [];
    ext.registerModule('a', { h_evt_Plugin: (x: unknown) => void seen.push(['a', x]) });
    ext.registerModule('b', { h_evt_Plugin: () => { throw new Error('b fails'); } });
    ext.registerModule('c', { h_evt_Plugin: (x: unknown) => void seen.push(['c', x]) });
    expect(ext.notify('h', 'evt', 1)).toBeUndefined();
    ext.notify('h', 'evt', 2);
    expect(seen).toEqual([['a', 1], ['c', 1], ['a', 2], ['c', 2]]);
    const { plugins, points, status } = ext.report();
    expect(plugins.map((p) => [p.module, p.ok, p.exit])).toEqual([['a', 2, 0], ['b', 0, 2], ['c', 2, 0]]);
    expect(points[0]).toMatchObject({ fn: 'h_evt_Extension', ok: 4, exit: 2 });
    expect(status.exitReasons.map((e) => [e.module, e.n, (e.reason as Error).message])).toEqual([
      ['b', 1, 'b fails'],
      ['b', 2, 'b fails'],
    ]);
  });

  it('counts a rejected promise handed to notify as an EXIT with its reason, once it rejects', async () => {
    await noUnhandledRejections(async () => {
      const ext = make();
      ext.registerModule('a', { h_evt_Plugin: async () => { throw new Error('x'); } });
      ext.notify('h', 'evt');
      await sleep(0);
      expect((ext.report().status.exitReasons[0]!.reason as Error).message).toBe('x');
    });
  });
});

/** An async plugin that logs its start and end and takes `ms`. */
const loggedPlugin = (log: string[]) => (name: string, ms: number) => async () => {
  log.push(`start ${name}`);
  await sleep(ms);
  log.push(`end ${name}`);
  return name;
};

describe('callPlugins', () => {
  it('awaits async plugins one after another, results in plugin order', async () => {
    const ext = make();
    const log: string[] = [];
    const plugin = loggedPlugin(log);
    ext.registerModule('a', { h_p_Plugin: plugin('a', 20) });
    ext.registerModule('b', { h_p_Plugin: plugin('b', 1) });
    ext.registerModule('c', { h_p_Plugin: () => 'c-sync' });
    const results = await ext.callPlugins('h', 'p');
    expect(results.map((r) => r.data)).toEqual(['a', 'b', 'c-sync']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('starts every plugin at once with parallel, results still in plugin order', async () => {
    const ext = make();
    const log: string[] = [];
    const plugin = loggedPlugin(log);
    ext.registerModule('a', { h_p_Plugin: plugin('a', 30) });
    ext.registerModule('b', { h_p_Plugin: plugin('b', 1) });
    const results = await ext.callPlugins('h', 'p', undefined, { parallel: true });
    expect(results.map((r) => r.data)).toEqual(['a', 'b']);
    expect(log.slice(0, 2)).toEqual(['start a', 'start b']);
    expect(log.indexOf('end b')).toBeLessThan(log.indexOf('end a'));
  });

  it('makes rejections and throws EXITs with their reasons', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: async () => { throw 'rejected'; } });
    ext.registerModule('b', { h_p_Plugin: () => { throw new Error('sync throw'); } });
    ext.registerModule('c', { h_p_Plugin: async () => 'fine' });
    const results = await ext.callPlugins('h', 'p');
    expect(results.map((r) => [r.state, r.data instanceof Error ? r.data.message : r.data])).toEqual([
      ['EXIT', 'rejected'],
      ['EXIT', 'sync throw'],
      ['ok', 'fine'],
    ]);
  });

  it('times out a plugin that never settles with ETIMEOUT, and a late result changes nothing', async () => {
    const ext = make();
    let settleLate: (v: unknown) => void = () => {};
    ext.registerModule('a', { h_p_Plugin: () => new Promise(() => {}) });
    ext.registerModule('b', { h_p_Plugin: () => new Promise((resolve) => (settleLate = resolve)) });
    ext.registerModule('c', { h_p_Plugin: () => 'after' });
    const results = await ext.callPlugins('h', 'p', undefined, { timeoutMs: 30 });
    expect(results.map((r) => r.state)).toEqual(['EXIT', 'EXIT', 'ok']);
    expect((results[0]!.data as { code: string }).code).toBe('ETIMEOUT');
    expect((results[1]!.data as Error).message).toContain('b.h_p_Plugin did not settle within 30 ms');
    settleLate('too late');
    await sleep(10);
    const rows = ext.report().plugins;
    expect(rows.find((r) => r.module === 'b')).toMatchObject({ ok: 0, exit: 1 });
  });

  it("starts each plugin's timeout clock when that plugin is called", async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => sleep(200).then(() => 'a') });
    ext.registerModule('b', { h_p_Plugin: () => sleep(200).then(() => 'b') });
    const results = await ext.callPlugins('h', 'p', undefined, { timeoutMs: 350 });
    expect(results.map((r) => r.state)).toEqual(['ok', 'ok']);
  });

  it('times out plugins in parallel mode too', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => new Promise(() => {}) });
    ext.registerModule('b', { h_p_Plugin: async () => 'b' });
    const results = await ext.callPlugins('h', 'p', undefined, { timeoutMs: 20, parallel: true });
    expect(results.map((r) => r.state)).toEqual(['EXIT', 'ok']);
  });

  it('rejects with a TypeError for bad names and bad options', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => 1 });
    await expect(ext.callPlugins('no way', 'p')).rejects.toThrow(/invalid module name "no way"/);
    await expect(ext.callPlugins('h', 'p', 1, { timeoutMs: -5 })).rejects.toThrow(/timeoutMs must be .* not -5/);
    await expect(ext.callPlugins('h', 'p', 1, { timeoutMs: 'x' as unknown as number })).rejects.toThrow(TypeError);
    await expect(ext.callPlugins('empty', 'p', 1, { timeoutMs: 0 })).rejects.toThrow(TypeError);
    await expect(ext.callPlugins('h', 'p', 1, null as never)).rejects.toThrow(/options must be an object/);
  });

  it('counts a thenable that misbehaves once: calling back twice, both ways, synchronously, or throwing', async () => {
    type Cb = (v: unknown) => void;
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: async () => 'first' });
    ext.registerModule('b', { h_p_Plugin: () => ({ then: (ok: Cb, fail: Cb) => { ok('b1'); ok('b2'); fail('b3'); } }) });
    ext.registerModule('c', { h_p_Plugin: () => ({ then: (_ok: Cb, fail: Cb) => { fail('c failed'); } }) });
    ext.registerModule('d', { h_p_Plugin: () => ({ then: () => { throw new Error('then threw'); } }) });
    ext.registerModule('e', { h_p_Plugin: () => ({ then: (ok: Cb) => setTimeout(() => { ok('e1'); ok('e2'); }, 1) }) });
    ext.registerModule('f', { h_p_Plugin: () => 'last' });
    const results = await ext.callPlugins('h', 'p');
    expect(results.map((r) => [r.info.module, r.state, r.data instanceof Error ? r.data.message : r.data])).toEqual([
      ['a', 'ok', 'first'],
      ['b', 'ok', 'b1'],
      ['c', 'EXIT', 'c failed'],
      ['d', 'EXIT', 'then threw'],
      ['e', 'ok', 'e1'],
      ['f', 'ok', 'last'],
    ]);
    await sleep(10);
    expect(ext.report().plugins.map((p) => p.ok + p.exit)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('lets a call in flight finish on the version it started with', async () => {
    const ext = make();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    ext.registerModule('first', { h_p_Plugin: () => gate.then(() => 'gate open') });
    ext.registerModule('v', { h_p_Plugin: () => 'old' });
    const inFlight = ext.callPlugins('h', 'p');
    ext.registerModule('v', { h_p_Plugin: () => 'new' });
    release();
    expect((await inFlight).map((r) => r.data)).toEqual(['gate open', 'old']);
    expect((await ext.callPlugins('h', 'p')).map((r) => r.data)).toEqual(['gate open', 'new']);
  });
});

describe('point handles', () => {
  it('call, callSync and notify through a handle, and see later changes', async () => {
    const ext = make();
    const handle = ext.point('h', 'p');
    expect(handle.callSync(1)).toEqual([]);
    ext.registerModule('a', { h_p_Plugin: (x: number) => x + 1 });
    expect(handle.callSync(1).map((r) => r.data)).toEqual([2]);
    expect((await handle.call(2)).map((r: PluginResult) => r.data)).toEqual([3]);
    handle.notify(3);
    ext.disablePlugin('a', 'h', 'p');
    expect(handle.callSync(1)).toEqual([]);
    expect(ext.report().plugins[0]).toMatchObject({ ok: 3, enabled: false });
  });

  it('does not add the point to the report by itself', () => {
    const ext = make();
    ext.point('h', 'p');
    expect(ext.report().points).toEqual([]);
    ext.point('h', 'p').callSync();
    expect(ext.report().points.map((p) => p.fn)).toEqual(['h_p_Extension']);
  });

  it('throws a TypeError for bad names', () => {
    expect(() => make().point('h', 'bad point')).toThrow(/invalid point name "bad point"/);
  });
});
