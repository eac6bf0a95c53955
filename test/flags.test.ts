import { describe, expect, it } from 'vitest';
import { createExtension } from '../src/index.js';

const make = () => createExtension({ scanLoaded: false });

function demo() {
  const ext = make();
  ext.registerModule('plugin_demo', { plugin_demo_point1_Extension: () => [], plugin_demo_point1_Plugin: () => 'own' });
  ext.registerModule('anat', { plugin_demo_point1_Plugin: () => 'anat' });
  return ext;
}

describe('flags', () => {
  it('skips a disabled plugin: no result entry, no count', () => {
    const ext = demo();
    ext.disablePlugin('anat', 'plugin_demo', 'point1');
    expect(ext.callPluginsSync('plugin_demo', 'point1').map((r) => r.info.module)).toEqual(['plugin_demo']);
    expect(ext.report().plugins.find((p) => p.module === 'anat')).toMatchObject({ enabled: false, ok: 0 });
    ext.enablePlugin('anat', 'plugin_demo', 'point1');
    expect(ext.callPluginsSync('plugin_demo', 'point1')).toHaveLength(2);
  });

  it('returns [] from a disabled point without calling anything, and still lists it', async () => {
    const ext = demo();
    let called = 0;
    ext.registerModule('counter', { plugin_demo_point1_Plugin: () => ++called });
    ext.disablePoint('plugin_demo', 'point1');
    expect(ext.callPluginsSync('plugin_demo', 'point1')).toEqual([]);
    expect(await ext.callPlugins('plugin_demo', 'point1')).toEqual([]);
    ext.notify('plugin_demo', 'point1');
    expect(called).toBe(0);
    expect(ext.report().points).toEqual([
      { fn: 'plugin_demo_point1_Extension', module: 'plugin_demo', node: 'local', enabled: false, ok: 0, exit: 0 },
    ]);
  });

  it('keeps the two flags independent: enabling a point does not re-enable a plugin disabled on its own', () => {
    const ext = demo();
    ext.disablePlugin('anat', 'plugin_demo', 'point1');
    ext.disablePoint('plugin_demo', 'point1');
    ext.enablePoint('plugin_demo', 'point1');
    expect(ext.callPluginsSync('plugin_demo', 'point1').map((r) => r.info.module)).toEqual(['plugin_demo']);
  });

  it('applies flags set before the plugin or point exists', () => {
    const ext = make();
    ext.disablePlugin('late', 'host', 'p');
    ext.disablePoint('host', 'q');
    ext.registerModule('late', { host_p_Plugin: () => 1, host_q_Plugin: () => 2 });
    ext.registerModule('other', { host_p_Plugin: () => 3 });
    expect(ext.callPluginsSync('host', 'p').map((r) => r.data)).toEqual([3]);
    expect(ext.callPluginsSync('host', 'q')).toEqual([]);
    expect(ext.report().plugins.map((p) => [p.module, p.fn, p.enabled])).toEqual([
      ['late', 'host_p_Plugin', false],
      ['late', 'host_q_Plugin', true],
      ['other', 'host_p_Plugin', true],
    ]);
  });

  it('reads the flags once, when a call starts', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: async () => { ext.disablePlugin('b', 'h', 'p'); return 'a'; } });
    ext.registerModule('b', { h_p_Plugin: () => 'b' });
    expect((await ext.callPlugins('h', 'p')).map((r) => r.data)).toEqual(['a', 'b']);
    expect((await ext.callPlugins('h', 'p')).map((r) => r.data)).toEqual(['a']);
  });

  it('rejects bad names in flag calls with a TypeError naming them', () => {
    const ext = make();
    expect(() => ext.disablePlugin('bad name', 'h', 'p')).toThrow(/invalid plugin module name "bad name"/);
    expect(() => ext.disablePoint('h', 'p_q')).toThrow(/invalid point name "p_q"/);
    expect(() => ext.enablePlugin('ok', 'h-h', 'p')).toThrow(/invalid module name "h-h"/);
  });
});

describe('counters and history', () => {
  it('counts synchronously: report() right after a call is exact, and a point sums its plugins', () => {
    const ext = demo();
    ext.registerModule('plugin2', { plugin_demo_point1_Plugin: () => { throw new Error('badmatch'); } });
    ext.callPluginsSync('plugin_demo', 'point1');
    ext.callPluginsSync('plugin_demo', 'point1');
    const { plugins, points } = ext.report();
    expect(plugins.map((p) => [p.module, p.ok, p.exit])).toEqual([
      ['anat', 2, 0],
      ['plugin2', 0, 2],
      ['plugin_demo', 2, 0],
    ]);
    expect(points).toEqual([
      { fn: 'plugin_demo_point1_Extension', module: 'plugin_demo', node: 'local', enabled: true, ok: 4, exit: 2 },
    ]);
  });

  it("keeps each plugin's 10 most recent exits with their running numbers", () => {
    const ext = make();
    let n = 0;
    ext.registerModule('bad', { h_p_Plugin: () => { throw new Error(`failure ${++n}`); } });
    for (let i = 0; i < 13; i++) ext.callPluginsSync('h', 'p');
    const exits = ext.report().status.exitReasons;
    expect(exits.map((e) => e.n)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(exits.map((e) => (e.reason as Error).message)).toEqual(
      [4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((i) => `failure ${i}`),
    );
    expect(exits[0]).toMatchObject({ fn: 'h_p_Plugin', module: 'bad', node: 'local' });
    expect(exits[0]!.at).toBeInstanceOf(Date);
    expect(ext.report().plugins[0]!.exit).toBe(13);
  });

  it('records start count and time, and the 100 most recent terminate reasons with defaults', async () => {
    const ext = make();
    expect(ext.report().status).toMatchObject({ startCount: 0, startTime: null });
    await ext.start();
    await ext.start(); // a started instance does nothing
    expect(ext.report().status.startCount).toBe(1);
    await ext.restart();
    await ext.stop();
    await ext.stop({ custom: 'reason' });
    for (let i = 0; i < 100; i++) await ext.restart(`r${i}`);
    const { status } = ext.report();
    expect(status.startCount).toBe(102);
    expect(status.startTime).toBeInstanceOf(Date);
    expect(status.terminateReasons).toHaveLength(100);
    expect(status.terminateReasons[0]).toMatchObject({ n: 4, reason: 'r0' });
    expect(status.terminateReasons.at(-1)).toMatchObject({ n: 103, reason: 'r99' });
    const fresh = make();
    await fresh.start();
    await fresh.restart();
    await fresh.stop();
    expect(fresh.report().status.terminateReasons.map((t) => [t.n, t.reason])).toEqual([
      [1, 'restart'],
      [2, 'shutdown'],
    ]);
  });

  it('keeps flags and counters across restart, and calls work before start and after stop', async () => {
    const ext = demo();
    ext.callPluginsSync('plugin_demo', 'point1');
    ext.disablePlugin('anat', 'plugin_demo', 'point1');
    await ext.start();
    await ext.restart('because');
    await ext.stop();
    expect(ext.callPluginsSync('plugin_demo', 'point1').map((r) => r.info.module)).toEqual(['plugin_demo']);
    const rows = ext.report().plugins;
    expect(rows.map((p) => [p.module, p.enabled, p.ok])).toEqual([
      ['anat', false, 1],
      ['plugin_demo', true, 2],
    ]);
  });
});
