import { describe, expect, it } from 'vitest';
import { createExtension, definePlugin, halt } from '../src/index.js';

const make = () => createExtension({ scanLoaded: false });
const plug = <F extends (x: any) => unknown>(fn: F, props: Record<string, unknown>) => Object.assign(fn, props);

describe('priority and dependency order', () => {
  it('MishkaInstaller: priority 1 depending on priority 2 runs after it (5 doubled, then incremented: 11)', async () => {
    const ext = make();
    ext.registerModule('increment', { calc_run_Plugin: plug((x: number) => x + 1, { priority: 1, depends: ['double'] }) });
    ext.registerModule('double', { calc_run_Plugin: plug((x: number) => x * 2, { priority: 2 }) });
    expect(await ext.pipe('calc', 'run', 5)).toBe(11);
    expect(ext.callPluginsSync('calc', 'run', 5).map((r) => r.info.module)).toEqual(['double', 'increment']);
    expect((await ext.callPlugins('calc', 'run', 5)).map((r) => r.info.module)).toEqual(['double', 'increment']);
  });

  it('orders by priority without dependencies, ties by module name', () => {
    const ext = make();
    ext.registerModule('c', { h_p_Plugin: plug(() => 'c', { priority: 50 }) });
    ext.registerModule('b', { h_p_Plugin: () => 'b' });
    ext.registerModule('a', { h_p_Plugin: () => 'a' });
    ext.registerModule('z', { h_p_Plugin: plug(() => 'z', { priority: 0 }) });
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['z', 'c', 'a', 'b']);
  });

  it('accepts definePlugin and plain properties alike, and refuses bad metadata with a load error naming it', () => {
    const ext = make();
    ext.registerModule('m', {
      h_p_Plugin: definePlugin((x: number) => x, { priority: 3 }),
      h_q_Plugin: plug(() => 1, { priority: 101 }),
      h_r_Plugin: plug(() => 1, { priority: 1.5 }),
      h_s_Plugin: plug(() => 1, { depends: 'other' }),
      h_t_Plugin: plug(() => 1, { depends: ['bad name'] }),
    });
    expect(ext.report().plugins.map((p) => p.fn)).toEqual(['h_p_Plugin']);
    const messages = ext.report().status.loadErrors.map((e) => [e.export, e.message]);
    expect(messages).toEqual([
      ['h_q_Plugin', expect.stringMatching(/plugin "h_q_Plugin" has priority 101: a priority is an integer from 0 to 100.*refused/)],
      ['h_r_Plugin', expect.stringMatching(/priority 1.5/)],
      ['h_s_Plugin', expect.stringMatching(/depends "other": depends is an array/)],
      ['h_t_Plugin', expect.stringMatching(/depends on "bad name"/)],
    ]);
    // @ts-expect-error a literal priority out of range does not compile either; this checks the run-time refusal
    expect(() => definePlugin(() => 1, { priority: -1 })).toThrow(/priority -1/);
  });
});

describe('hold and release', () => {
  it('holds a plugin whose dependency is missing, shows by which, and releases it when it loads', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    expect(ext.callPluginsSync('h', 'p')).toEqual([]);
    expect(ext.report().plugins[0]).toMatchObject({ module: 'a', heldBy: 'b', enabled: true });
    ext.registerModule('b', { other_point_Plugin: () => 'b elsewhere' });
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['a']);
    expect(ext.report().plugins.find((p) => p.module === 'a')!.heldBy).toBeNull();
  });

  it('crosses points: a dependency with every plugin disabled holds; re-enabling releases', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    ext.registerModule('b', { other_q_Plugin: () => 'b' });
    ext.disablePlugin('b', 'other', 'q');
    expect(ext.callPluginsSync('h', 'p')).toEqual([]);
    ext.enablePlugin('b', 'other', 'q');
    expect(ext.callPluginsSync('h', 'p')).toHaveLength(1);
  });

  it('a dependency without plugins is satisfied once loaded (a library module)', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['lib'] }) });
    ext.registerModule('lib', { lib_api_Extension: () => [] });
    expect(ext.callPluginsSync('h', 'p')).toHaveLength(1);
  });

  it('holds and releases a chain with a diamond (a needs b and c, both need d)', () => {
    const ext = make();
    ext.registerModule('d', { h_p_Plugin: () => 'd' });
    ext.registerModule('b', { h_p_Plugin: plug(() => 'b', { depends: ['d'] }) });
    ext.registerModule('c', { h_p_Plugin: plug(() => 'c', { depends: ['d'] }) });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b', 'c'], priority: 0 }) });
    const order = () => ext.callPluginsSync('h', 'p').map((r) => r.data);
    expect(order()).toEqual(['d', 'b', 'c', 'a']);
    ext.disablePlugin('d', 'h', 'p');
    expect(order()).toEqual([]);
    expect(ext.report().plugins.map((p) => [p.module, p.heldBy])).toEqual([
      ['a', 'b'],
      ['b', 'd'],
      ['c', 'd'],
      ['d', null],
    ]);
    ext.enablePlugin('d', 'h', 'p');
    expect(order()).toEqual(['d', 'b', 'c', 'a']);
    ext.unregisterModule('c');
    expect(order()).toEqual(['d', 'b']);
    ext.registerModule('c', { h_p_Plugin: plug(() => 'c2', { depends: ['d'] }) });
    expect(order()).toEqual(['d', 'b', 'c2', 'a']);
  });

  it('keeps a plugin disabled by an operator disabled when its dependencies return', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    ext.disablePlugin('a', 'h', 'p');
    ext.registerModule('b', { h_p_Plugin: () => 'b' });
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['b']);
  });

  it('refuses the plugin that closes a cycle, naming every member; loaded modules keep working', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    ext.registerModule('b', { h_p_Plugin: plug(() => 'b', { depends: ['c'] }) });
    ext.registerModule('c', {
      h_p_Plugin: plug(() => 'c', { depends: ['a'] }),
      h_q_Plugin: () => 'c on q',
    });
    const error = ext.report().status.loadErrors[0]!;
    expect(error).toMatchObject({ module: 'c', export: 'h_p_Plugin' });
    expect(error.message).toContain('c -> a -> b -> c');
    expect(ext.callPluginsSync('h', 'q').map((r) => r.data)).toEqual(['c on q']);
    // c's other plugin keeps c satisfied, so the chain runs
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['b', 'a']);
  });

  it('keeps the previous version of a module whose reload would close a cycle', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    ext.registerModule('b', { h_p_Plugin: () => 'b v1' });
    ext.registerModule('b', { h_p_Plugin: plug(() => 'b v2', { depends: ['a'] }) });
    expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['b v1', 'a']);
    expect(ext.report().status.loadErrors[0]!.message).toMatch(/b -> a -> b.*previous version of the module stays/);
  });

  it('refuses a plugin that depends on its own module', () => {
    const ext = make();
    ext.registerModule('self', { h_p_Plugin: plug(() => 1, { depends: ['self'] }) });
    expect(ext.report().plugins).toEqual([]);
    expect(ext.report().status.loadErrors[0]!.message).toContain('self -> self');
  });
});

describe('pipe', () => {
  it('threads the state and stops at halt(value), which becomes the result', async () => {
    const ext = make();
    const seen: unknown[] = [];
    ext.registerModule('a', { h_p_Plugin: plug((s: number) => (seen.push(s), s + 1), { priority: 1 }) });
    ext.registerModule('b', { h_p_Plugin: plug((s: number) => (seen.push(s), halt(s * 10)), { priority: 2 }) });
    ext.registerModule('c', { h_p_Plugin: plug((s: number) => (seen.push(s), 0), { priority: 3 }) });
    expect(await ext.pipe('h', 'p', 1)).toBe(20);
    expect(seen).toEqual([1, 2]);
    expect(ext.report().plugins.map((p) => [p.module, p.ok])).toEqual([['a', 1], ['b', 1], ['c', 0]]);
  });

  it('accepts a plain halt object without importing extpoint', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => ({ [Symbol.for('extpoint.halt')]: 'stopped' }) });
    ext.registerModule('b', { h_p_Plugin: () => 'not reached' });
    expect(await ext.pipe('h', 'p', 'in')).toBe('stopped');
  });

  it('returns the original input when a plugin throws, rejects or times out, and counts the exit', async () => {
    const ext = make();
    const input = { n: 1 };
    ext.registerModule('a', { h_p_Plugin: (s: { n: number }) => ({ n: s.n + 1 }) });
    ext.registerModule('b', { h_p_Plugin: () => { throw new Error('b broke'); } });
    expect(await ext.pipe('h', 'p', input)).toBe(input);
    expect(input).toEqual({ n: 1 });
    ext.registerModule('b', { h_p_Plugin: async () => { throw new Error('b rejected'); } });
    expect(await ext.pipe('h', 'p', input)).toBe(input);
    ext.registerModule('b', { h_p_Plugin: () => new Promise(() => {}) });
    expect(await ext.pipe('h', 'p', input, { timeoutMs: 20 })).toBe(input);
    const b = ext.report().plugins.find((p) => p.module === 'b')!;
    expect(b.exit).toBe(3);
    const reasons = ext.report().status.exitReasons.map((e) => (e.reason as { code?: string; message: string }).code ?? (e.reason as Error).message);
    expect(reasons).toEqual(['b broke', 'b rejected', 'ETIMEOUT']);
  });

  it('awaits async plugins in the chain', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: async (s: number) => s + 1 });
    ext.registerModule('b', { h_p_Plugin: (s: number) => s * 3 });
    ext.registerModule('c', { h_p_Plugin: async (s: number) => halt(s - 1) });
    expect(await ext.pipe('h', 'p', 1)).toBe(5);
  });

  it('merges private into the chain result, never shows it to plugins, and returnInput gives back the input', async () => {
    const ext = make();
    const seen: unknown[] = [];
    ext.registerModule('a', { h_p_Plugin: (s: Record<string, unknown>) => (seen.push({ ...s }), { ...s, a: 1, secret: 'plugin' }) });
    const input = { x: 1 };
    expect(await ext.pipe('h', 'p', input, { private: { secret: 'host' } })).toEqual({ x: 1, a: 1, secret: 'host' });
    expect(seen).toEqual([{ x: 1 }]);
    const back = await ext.pipe('h', 'p', input, { returnInput: true, private: { secret: 'host' } });
    expect(back).toBe(input);
    expect(input).toEqual({ x: 1 });
    expect(ext.report().plugins[0]!.ok).toBe(2);
  });

  it('returns the input from a disabled point or one without plugins', async () => {
    const ext = make();
    const input = { x: 1 };
    expect(await ext.pipe('h', 'none', input, { private: { y: 2 } })).toBe(input);
    ext.registerModule('a', { h_p_Plugin: () => ({ changed: true }) });
    ext.disablePoint('h', 'p');
    expect(await ext.pipe('h', 'p', input)).toBe(input);
  });

  it('rejects bad names and options with a TypeError', async () => {
    const ext = make();
    await expect(ext.pipe('h', 'bad_point', 1)).rejects.toThrow(/invalid point name/);
    ext.registerModule('a', { h_p_Plugin: (x: unknown) => x });
    await expect(ext.pipe('h', 'p', 1, { timeoutMs: Number.NaN })).rejects.toThrow(/timeoutMs/);
  });
});

describe('health', () => {
  it('runs probes concurrently with a timeout and reports modules and points', async () => {
    const ext = make();
    ext.registerModule('host', { host_p_Extension: () => [], host_q_Extension: () => [] });
    ext.registerModule('good', { host_p_Plugin: () => 1, health: () => 'ok' });
    ext.registerModule('slow', { host_p_Plugin: () => 1, health: () => new Promise(() => {}) });
    ext.registerModule('meh', { host_q_Plugin: () => 1, health: async () => ({ status: 'degraded', reason: 'cache cold' }) });
    ext.registerModule('silent', { host_q_Plugin: () => 1 });
    ext.registerModule('weird', { other_r_Plugin: () => 1, health: () => 42 });
    const all = await ext.health(undefined, undefined, { timeoutMs: 30 });
    expect(all.modules).toEqual([
      { module: 'good', probe: true, status: 'ok' },
      { module: 'meh', probe: true, status: 'degraded', reason: 'cache cold' },
      { module: 'silent', probe: false, status: 'ok' },
      { module: 'slow', probe: true, status: 'error', reason: 'health() did not answer within 30 ms' },
      { module: 'weird', probe: true, status: 'error', reason: expect.stringContaining("health() returned 42: expected 'ok'") },
    ]);
    expect(all.points.map((p) => [p.fn, p.healthy, p.plugins])).toEqual([
      ['host_p_Extension', false, ['good', 'slow']],
      ['host_q_Extension', false, ['meh', 'silent']],
      ['other_r_Extension', false, ['weird']],
    ]);
    expect(all.healthy).toBe(false);
    ext.unregisterModule('slow');
    const one = await ext.health('host', 'p');
    expect(one).toEqual({
      healthy: true,
      points: [{ module: 'host', point: 'p', fn: 'host_p_Extension', healthy: true, plugins: ['good'], disabled: [], held: [], slow: [] }],
      modules: [{ module: 'good', probe: true, status: 'ok' }],
    });
    // health reports; it never stops calls
    expect(ext.callPluginsSync('host', 'q')).toHaveLength(2);
  });

  it('reports a throwing probe as an error and refuses a health export that is not a function', async () => {
    const ext = make();
    ext.registerModule('t', { h_p_Plugin: () => 1, health: () => { throw new Error('db down'); } });
    ext.registerModule('n', { h_p_Plugin: () => 1, health: 'yes' });
    const report = await ext.health('h', 'p');
    expect(report.modules.find((m) => m.module === 't')).toMatchObject({ status: 'error', reason: 'db down' });
    expect(ext.report().status.loadErrors[0]).toMatchObject({ module: 'n', export: 'health' });
    await expect(ext.health('h', 'p', { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    await expect(ext.health(undefined, 'p')).rejects.toThrow(/needs the module/);
  });
});

describe('profile', () => {
  it('records count, total, max and last per plugin while on, and nothing when off', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => 1 });
    ext.registerModule('b', { h_p_Plugin: async () => 2 });
    ext.callPluginsSync('h', 'p');
    expect(ext.report().plugins.every((p) => p.profile === undefined)).toBe(true);
    ext.profile('h', 'p', true);
    ext.callPluginsSync('h', 'p');
    await ext.callPlugins('h', 'p');
    await ext.pipe('h', 'p', 0);
    ext.notify('h', 'p');
    const rows = ext.report().plugins;
    for (const row of rows) {
      expect(row.profile!.count).toBe(4);
      expect(row.profile!.maxMs).toBeGreaterThanOrEqual(row.profile!.lastMs);
      expect(row.profile!.totalMs).toBeGreaterThanOrEqual(row.profile!.maxMs);
    }
    ext.profile('h', 'p', false);
    ext.callPluginsSync('h', 'p');
    expect(ext.report().plugins[0]!.profile!.count).toBe(4);
  });
});

describe('hostile return values', () => {
  const hostile = () => ({
    get then(): never {
      throw new Error('then getter exploded');
    },
  });

  it('fail only the plugin that returned them, in every kind of call', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: hostile });
    ext.registerModule('b', { h_p_Plugin: (x: unknown) => x });
    expect(ext.callPluginsSync('h', 'p', 1).map((r) => r.state)).toEqual(['EXIT', 'ok']);
    expect((await ext.callPlugins('h', 'p', 1)).map((r) => r.state)).toEqual(['EXIT', 'ok']);
    ext.notify('h', 'p', 1);
    expect(await ext.pipe('h', 'p', 'input')).toBe('input');
    const a = ext.report().plugins.find((p) => p.module === 'a')!;
    expect([a.ok, a.exit]).toEqual([0, 4]);
    expect(ext.report().status.exitReasons.every((e) => (e.reason as Error).message === 'then getter exploded')).toBe(true);
  });

  it('fail a pipe step after an async one too, which returns the input', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: async (x: number) => x + 1 });
    ext.registerModule('b', { h_p_Plugin: hostile });
    expect(await ext.pipe('h', 'p', 1)).toBe(1);
    expect(ext.report().plugins.map((p) => [p.module, p.ok, p.exit])).toEqual([['a', 1, 0], ['b', 0, 1]]);
  });
});

describe('long chains', () => {
  it('pipes through more plugins than generated code covers, halting and failing the same way', async () => {
    const ext = make();
    for (let i = 0; i < 40; i++) {
      ext.registerModule(`m${String(i).padStart(2, '0')}`, { h_p_Plugin: (x: number) => (i === 39 ? halt(x * 100) : x + 1) });
    }
    expect(await ext.pipe('h', 'p', 0)).toBe(3900);
    ext.registerModule('m20', { h_p_Plugin: () => { throw new Error('middle'); } });
    expect(await ext.pipe('h', 'p', 0)).toBe(0);
    ext.registerModule('m20', { h_p_Plugin: async (x: number) => x + 1 });
    expect(await ext.pipe('h', 'p', 0)).toBe(3900);
  });
});
