import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createExtension, extension, Extension } from '../src/index.js';
import { TRANSIENT_POINTS } from '../src/registry/registry.js';

const make = () => createExtension({ scanLoaded: false });

describe('registerModule', () => {
  it('makes _Extension exports points and _Plugin exports plugins; other exports are ignored', () => {
    const ext = make();
    ext.registerModule('billing', {
      billing_checkout_Extension: () => [],
      billing_checkout_Plugin: () => 'own',
      helper: () => 'not a plugin',
      CONSTANT: 3,
    });
    expect(ext.report().points.map((p) => p.fn)).toEqual(['billing_checkout_Extension']);
    expect(ext.report().plugins.map((p) => [p.module, p.fn])).toEqual([['billing', 'billing_checkout_Plugin']]);
    expect(ext.report().status.loadErrors).toEqual([]);
  });

  it('throws a TypeError only for a bad name or non-object exports', () => {
    const ext = make();
    expect(() => ext.registerModule('bad name', {})).toThrow(/module name .* not "bad name"/);
    expect(() => ext.registerModule('', {})).toThrow(TypeError);
    expect(() => ext.registerModule('a'.repeat(256), {})).toThrow(TypeError);
    expect(() => ext.registerModule('ok', null as never)).toThrow(/needs an object of exports, not null/);
    expect(() => ext.registerModule('ok', 5 as never)).toThrow(TypeError);
    expect(() => ext.registerModule('my-plugin.v2', {})).not.toThrow();
  });

  it('records bad exports as load errors and registers the rest', () => {
    const ext = make();
    const errors: unknown[] = [];
    ext.on('loadError', (e) => errors.push(e));
    ext.registerModule('mixed', {
      host_p_Plugin: () => 'good',
      host_q_Plugin: 'not a function',
      other_p_Extension: () => [],
      broken_Plugin: () => 1,
      host_bad$point_Plugin: () => 1,
    });
    expect(ext.callPluginsSync('host', 'p').map((r) => r.data)).toEqual(['good']);
    const loadErrors = ext.report().status.loadErrors;
    expect(loadErrors.map((e) => e.export)).toEqual([
      'host_q_Plugin',
      'other_p_Extension',
      'broken_Plugin',
      'host_bad$point_Plugin',
    ]);
    expect(loadErrors[0]!.message).toMatch(/is "not a function", not a function/);
    expect(loadErrors[1]!.message).toMatch(/names module "other" but is exported by module "mixed"/);
    expect(loadErrors.every((e) => e.module === 'mixed' && e.at instanceof Date)).toBe(true);
    expect(errors).toHaveLength(4);
  });

  it('reads getters (as TypeScript CommonJS output uses) and records a throwing getter as a load error', () => {
    const ext = make();
    const exports = {};
    Object.defineProperty(exports, 'h_p_Plugin', { enumerable: true, get: () => () => 'via getter' });
    Object.defineProperty(exports, 'h_q_Plugin', {
      enumerable: true,
      get: () => {
        throw new Error('getter exploded');
      },
    });
    Object.defineProperty(exports, 'h_r_Plugin', { enumerable: false, value: () => 'hidden' });
    ext.registerModule('ts', exports);
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['via getter']);
    expect(ext.callPluginsSync('h', 'r')).toEqual([]);
    expect(ext.report().status.loadErrors[0]).toMatchObject({ export: 'h_q_Plugin' });
    expect(ext.report().status.loadErrors[0]!.message).toContain('getter exploded');
  });

  it('accepts a function carrying properties as exports (module.exports = fn)', () => {
    const ext = make();
    const fn = Object.assign(() => 'main', { h_p_Plugin: () => 'prop' });
    ext.registerModule('fnmod', fn);
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['prop']);
  });

  it('records a module whose exports cannot even be listed as a load error, without throwing', () => {
    const ext = make();
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('no keys for you'); } });
    expect(() => ext.registerModule('hostile', hostile)).not.toThrow();
    expect(ext.report().status.loadErrors[0]).toMatchObject({ module: 'hostile' });
    expect(ext.report().status.loadErrors[0]!.message).toContain('no keys for you');
  });

  it('replaces a module atomically, keeping counters and flags of plugins that remain', () => {
    const ext = make();
    const events: string[] = [];
    ext.on('load', (e) => events.push(`load ${e.module}`));
    ext.on('reload', (e) => events.push(`reload ${e.module}`));
    ext.on('unload', (e) => events.push(`unload ${e.module}`));
    ext.registerModule('m', { h_p_Plugin: () => 'v1', h_q_Plugin: () => 'q1' });
    ext.callPluginsSync('h', 'p');
    ext.disablePlugin('m', 'h', 'q');
    ext.registerModule('m', { h_p_Plugin: () => 'v2', h_q_Plugin: () => 'q2', h_r_Plugin: () => 'r2' });
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['v2']);
    expect(ext.callPluginsSync('h', 'q')).toEqual([]);
    expect(ext.report().plugins.map((p) => [p.fn, p.enabled, p.ok])).toEqual([
      ['h_p_Plugin', true, 2],
      ['h_q_Plugin', false, 0],
      ['h_r_Plugin', true, 0],
    ]);
    ext.registerModule('m', { h_r_Plugin: () => 'r3' });
    expect(ext.callPluginsSync('h', 'p')).toEqual([]);
    expect(ext.report().plugins.map((p) => p.fn)).toEqual(['h_r_Plugin']);
    expect(ext.unregisterModule('m')).toBe(true);
    expect(ext.unregisterModule('m')).toBe(false);
    expect(ext.report().plugins).toEqual([]);
    expect(events).toEqual(['load m', 'reload m', 'reload m', 'unload m']);
  });

  it("resumes a removed plugin's counts when it comes back in the same process", () => {
    const ext = make();
    ext.registerModule('m', { h_p_Plugin: () => 1 });
    ext.callPluginsSync('h', 'p');
    ext.unregisterModule('m');
    expect(ext.report().plugins).toEqual([]);
    ext.registerModule('m', { h_p_Plugin: () => 1 });
    ext.callPluginsSync('h', 'p');
    expect(ext.report().plugins[0]!.ok).toBe(2);
  });

  it('keeps modules given to registerModule across restart', async () => {
    const ext = make();
    ext.registerModule('m', { h_p_Plugin: () => 1 });
    await ext.restart();
    expect(ext.callPluginsSync('h', 'p')).toHaveLength(1);
  });
});

describe('points in the report', () => {
  it('appears once declared or once called (even while disabled), and a declared point leaves with its module', () => {
    const ext = make();
    ext.registerModule('p1', { host_a_Plugin: () => 1 });
    expect(ext.report().points).toEqual([]);
    ext.disablePoint('host', 'b');
    ext.callPluginsSync('host', 'b');
    expect(ext.report().points.map((p) => [p.fn, p.enabled])).toEqual([['host_b_Extension', false]]);
    ext.registerModule('host', { host_c_Extension: () => [] });
    expect(ext.report().points.map((p) => p.fn)).toEqual(['host_b_Extension', 'host_c_Extension']);
    ext.unregisterModule('host');
    expect(ext.report().points.map((p) => p.fn)).toEqual(['host_b_Extension']);
  });

  it('keeps points that were only called in a bounded cache, so ever-new names cannot grow memory', () => {
    const ext = make();
    ext.registerModule('host', { host_kept_Extension: () => [] });
    for (let i = 0; i < TRANSIENT_POINTS + 500; i++) ext.callPluginsSync('user', `name${i}`);
    const points = ext.report().points;
    expect(points).toHaveLength(TRANSIENT_POINTS + 1);
    expect(points.some((p) => p.fn === 'user_name0_Extension')).toBe(false);
    expect(points.some((p) => p.fn === `user_name${TRANSIENT_POINTS + 499}_Extension`)).toBe(true);
    expect(points.some((p) => p.fn === 'host_kept_Extension')).toBe(true);
  });
});

describe('the default instance', () => {
  it('is an Extension shared process-wide through a global symbol', () => {
    expect(extension).toBeInstanceOf(Extension);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('extpoint.default')]).toBe(extension);
  });

  it('rejects bad options', () => {
    expect(() => createExtension({ node: '' })).toThrow(/option node must be a non-empty string/);
    expect(() => createExtension(7 as never)).toThrow(TypeError);
  });
});

describe('report rendering', () => {
  it('prints as tables in the REPL, with each failing plugin, load errors and the start count', async () => {
    const ext = make();
    await ext.start();
    ext.registerModule('plugin_demo', { plugin_demo_point1_Extension: () => [], plugin_demo_point1_Plugin: () => 1 });
    ext.registerModule('plugin2', { plugin_demo_point1_Plugin: () => { throw new Error('badmatch {1,123}'); }, x_Plugin: () => 1 });
    ext.callPluginsSync('plugin_demo', 'point1');
    const text = inspect(ext.report());
    expect(text).toContain('start count 1');
    expect(text).toMatch(/plugin_demo_point1_Extension\s+plugin_demo\s+local\s+enable\s+1\s+1/);
    expect(text).toMatch(/plugin_demo_point1_Plugin\s+plugin2\s+local\s+enable\s+0\s+1/);
    expect(text).toMatch(/plugin2 plugin_demo_point1_Plugin #1 at \S+: Error: badmatch \{1,123\}/);
    expect(text).toMatch(/module plugin2, export x_Plugin at \S+: export "x_Plugin" does not name a module and a point/);
    expect(text).not.toContain('[Object]');
    expect(text).not.toContain('\u001b[');
    expect(JSON.parse(JSON.stringify(ext.report())).plugins).toHaveLength(2);
  });
});
