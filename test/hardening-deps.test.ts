/**
 * Hardening of dependencies, holds and health (issue 16, items 1, 2, 4, 5 and 16): holds always follow
 * the current metadata; only a module that loaded satisfies a dependency; health never calls an unknown
 * point healthy, and leaves disabled and held plugins out of a point's verdict; long dependency chains
 * register without deep recursion, and cycles are still refused with the cycle named.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createExtension, type Extension } from '../src/index.js';

const make = () => createExtension({ scanLoaded: false });
const plug = <F extends (x: any) => unknown>(fn: F, props: Record<string, unknown>) => Object.assign(fn, props);
const ran = (ext: Extension, module = 'h', point = 'p') => ext.callPluginsSync(module, point).map((r) => r.info.module);
const heldBy = (ext: Extension, module: string) => ext.report().plugins.find((p) => p.module === module)?.heldBy;

describe('holds follow the current metadata (item 1)', () => {
  it('releases a plugin re-registered without depends, though no other plugin has dependencies', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['missing'] }) });
    expect(ran(ext)).toEqual([]);
    expect(heldBy(ext, 'a')).toBe('missing');
    ext.registerModule('a', { h_p_Plugin: () => 'a' });
    expect(heldBy(ext, 'a')).toBeNull();
    expect(ran(ext)).toEqual(['a']);
  });

  it('releases a plugin whose new version drops the depends, while others keep theirs', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['missing'] }) });
    ext.registerModule('b', { h_p_Plugin: plug(() => 'b', { depends: ['missing'] }) });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { priority: 5 }) });
    expect(ran(ext)).toEqual(['a']);
    expect(heldBy(ext, 'b')).toBe('missing');
  });

  it('re-holds and renames the holder as the depends of a new version change', () => {
    const ext = make();
    ext.registerModule('c', { other_q_Plugin: () => 'c' });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['missing'] }) });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['c'] }) });
    expect(ran(ext)).toEqual(['a']);
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['c', 'gone'] }) });
    expect(heldBy(ext, 'a')).toBe('gone');
    expect(ran(ext)).toEqual([]);
  });

  it('names the first unsatisfied dependency as it changes, through registration and removal', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b', 'c'] }) });
    expect(heldBy(ext, 'a')).toBe('b');
    ext.registerModule('b', { other_q_Plugin: () => 'b' });
    expect(heldBy(ext, 'a')).toBe('c');
    ext.registerModule('c', { other_q_Plugin: () => 'c' });
    expect(heldBy(ext, 'a')).toBeNull();
    ext.unregisterModule('b');
    expect(heldBy(ext, 'a')).toBe('b');
    ext.unregisterModule('c');
    expect(heldBy(ext, 'a')).toBe('b');
    ext.registerModule('b', { other_q_Plugin: () => 'b' });
    expect(heldBy(ext, 'a')).toBe('c');
  });

  it('a plugin moved to another point by a new version is not held there by its old depends', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['missing'] }) });
    ext.registerModule('a', { h_q_Plugin: () => 'a on q' });
    expect(ran(ext, 'h', 'q')).toEqual(['a']);
    ext.registerModule('a', { h_p_Plugin: () => 'a back on p' });
    expect(ran(ext, 'h', 'p')).toEqual(['a']);
  });

  describe('reloaded from a plugin folder', () => {
    let base: string;
    beforeEach(async () => {
      base = await mkdtemp(join(tmpdir(), 'ep-deps-'));
    });
    afterEach(async () => {
      await rm(base, { recursive: true, force: true });
    });

    it('a file whose new version drops its depends runs after a rescan', async () => {
      const file = join(base, 'waiter.cjs');
      await writeFile(file, "exports.h_p_Plugin = () => 'old';\nexports.h_p_Plugin.depends = ['missing'];\n");
      const ext = createExtension({ scanLoaded: false, pluginDirs: [base], watch: false, checkPermissions: false });
      try {
        await ext.start();
        expect(heldBy(ext, 'waiter')).toBe('missing');
        expect(ran(ext)).toEqual([]);
        await writeFile(file, "exports.h_p_Plugin = () => 'new, and needing nothing at all';\n");
        await ext.rescan();
        expect(ext.callPluginsSync('h', 'p').map((r) => r.data)).toEqual(['new, and needing nothing at all']);
        expect(heldBy(ext, 'waiter')).toBeNull();
      } finally {
        await ext.stop();
      }
    });
  });
});

describe('a dependency is satisfied only by a module that loaded (item 2)', () => {
  it('a dependency whose only plugin has a bad priority holds its dependents', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    ext.registerModule('b', { other_q_Plugin: plug(() => 'b', { priority: 500 }) });
    expect(ext.report().status.loadErrors.map((e) => e.module)).toEqual(['b']);
    expect(ran(ext)).toEqual([]);
    expect(heldBy(ext, 'a')).toBe('b');
    ext.registerModule('b', { other_q_Plugin: plug(() => 'b', { priority: 50 }) });
    expect(ran(ext)).toEqual(['a']);
  });

  it('a dependency whose plugin exports are not functions holds its dependents', () => {
    const ext = make();
    ext.registerModule('b', { other_q_Plugin: 42, other_r_Plugin: 'not code' });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    expect(ran(ext)).toEqual([]);
    expect(heldBy(ext, 'a')).toBe('b');
  });

  it('a dependency whose plugins were refused for closing a cycle holds its dependents', () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    ext.registerModule('b', { other_q_Plugin: plug(() => 'b', { depends: ['a'] }) });
    expect(ext.report().status.loadErrors[0]!.message).toMatch(/cycle b -> a -> b/);
    expect(ran(ext)).toEqual([]);
    expect(heldBy(ext, 'a')).toBe('b');
  });

  it('one refused plugin among working ones does not hold; a clean module without plugins satisfies', () => {
    const ext = make();
    ext.registerModule('b', { other_q_Plugin: plug(() => 'b', { priority: -1 }), other_r_Plugin: () => 'b' });
    ext.registerModule('lib', { lib_api_Extension: () => [] });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b', 'lib'] }) });
    expect(ran(ext)).toEqual(['a']);
  });

  it('a dependency that lost its last working plugin in a reload holds again, transitively', () => {
    const ext = make();
    ext.registerModule('c', { other_q_Plugin: () => 'c' });
    ext.registerModule('b', { h_p_Plugin: plug(() => 'b', { depends: ['c'] }) });
    ext.registerModule('a', { h_p_Plugin: plug(() => 'a', { depends: ['b'] }) });
    expect(ran(ext)).toEqual(['b', 'a']);
    ext.registerModule('c', { other_q_Plugin: plug(() => 'c', { priority: 'high' }) });
    expect(ran(ext)).toEqual([]);
    expect([heldBy(ext, 'b'), heldBy(ext, 'a')]).toEqual(['c', 'b']);
  });
});

describe('health of what is not known (item 4)', () => {
  it('rejects an unknown point with an error naming it, never healthy', async () => {
    const ext = make();
    ext.registerModule('host', { host_checkout_Extension: () => [] });
    ext.registerModule('good', { host_checkout_Plugin: () => 1, health: () => 'ok' });
    await expect(ext.health('host', 'chekout')).rejects.toThrow(/"host".*"chekout"|host\.chekout|host_chekout/);
    await expect(ext.health('host', 'chekout')).rejects.toThrow(/unknown|not known/);
    await expect(ext.health('nohost', 'checkout')).rejects.toThrow(/unknown|not known/);
    expect((await ext.health('host', 'checkout')).healthy).toBe(true);
  });

  it('rejects an unknown module with an error naming it', async () => {
    const ext = make();
    ext.registerModule('good', { host_checkout_Plugin: () => 1 });
    await expect(ext.health('nosuch')).rejects.toThrow(/"nosuch"/);
    await expect(ext.health('nosuch')).rejects.toThrow(/unknown|not known/);
    // known ways to exist: plugged into, declared, called
    expect((await ext.health('host')).healthy).toBe(true);
    ext.callPluginsSync('asked', 'p');
    await expect(ext.health('asked', 'p')).resolves.toMatchObject({ healthy: true, points: [{ fn: 'asked_p_Extension' }] });
  });

  it('a point whose plugins all left is still known (plugins may come back), with no plugins', async () => {
    const ext = make();
    ext.registerModule('good', { host_checkout_Plugin: () => 1 });
    ext.unregisterModule('good');
    await expect(ext.health('host', 'checkout')).resolves.toMatchObject({ points: [{ plugins: [] }] });
  });
});

describe('health leaves disabled and held plugins out of the verdict (item 5)', () => {
  it('reports them as disabled and held, and does not probe them', async () => {
    const ext = make();
    let probed = 0;
    const failing = () => {
      probed++;
      return { status: 'error', reason: 'broken' };
    };
    ext.registerModule('host', { host_p_Extension: () => [] });
    ext.registerModule('good', { host_p_Plugin: () => 1, health: () => 'ok' });
    ext.registerModule('off', { host_p_Plugin: () => 1, health: failing });
    ext.registerModule('waiting', { host_p_Plugin: plug(() => 1, { depends: ['missing'] }), health: failing });
    ext.disablePlugin('off', 'host', 'p');
    const report = await ext.health('host', 'p');
    expect(report).toEqual({
      healthy: true,
      points: [
        {
          module: 'host',
          point: 'p',
          fn: 'host_p_Extension',
          healthy: true,
          plugins: ['good'],
          disabled: ['off'],
          held: [{ module: 'waiting', heldBy: 'missing' }],
        },
      ],
      modules: [{ module: 'good', probe: true, status: 'ok' }],
    });
    expect(probed).toBe(0);

    ext.enablePlugin('off', 'host', 'p');
    const after = await ext.health('host', 'p');
    expect(after.healthy).toBe(false);
    expect(after.points[0]).toMatchObject({ plugins: ['good', 'off'], disabled: [], healthy: false });
    expect(probed).toBe(1);
  });

  it('a module probed for one point is not blamed on a point where it is disabled', async () => {
    const ext = make();
    ext.registerModule('flaky', { h_p_Plugin: () => 1, h_q_Plugin: () => 1, health: () => ({ status: 'degraded' }) });
    ext.registerModule('fine', { h_q_Plugin: () => 1 });
    ext.disablePlugin('flaky', 'h', 'q');
    const all = await ext.health();
    expect(all.points.map((p) => [p.point, p.healthy, p.plugins, p.disabled])).toEqual([
      ['p', false, ['flaky'], []],
      ['q', true, ['fine'], ['flaky']],
    ]);
    expect(all.healthy).toBe(false);
  });
});

describe('long dependency chains and cycles (item 16)', () => {
  const N = 10_000;
  const name = (i: number) => `m${i}`;
  const chainLink = (i: number) =>
    i === 0 ? { h_p_Plugin: () => 0 } : { h_p_Plugin: plug(() => i, { depends: [name(i - 1)] }) };
  const inOrder = (n: number) => Array.from({ length: n }, (_, i) => name(i));

  it(`registers a chain of ${N} modules, each needing the previous, and runs it in order`, () => {
    const ext = make();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) ext.registerModule(name(i), chainLink(i));
    const ms = performance.now() - t0;
    console.log(`[measure] chain of ${N} registered in dependency order: ${ms.toFixed(1)} ms`);
    expect(ext.report().status.loadErrors).toEqual([]);
    expect(ran(ext)).toEqual(inOrder(N));

    // Removing the root holds the whole chain, each link by the one before; bringing it back releases all.
    const t1 = performance.now();
    ext.unregisterModule(name(0));
    ext.registerModule(name(0), chainLink(0));
    console.log(`[measure] root of ${N} removed and registered again: ${(performance.now() - t1).toFixed(1)} ms`);
    expect(ran(ext)).toEqual(inOrder(N));
    ext.unregisterModule(name(0));
    expect(ran(ext)).toEqual([]);
    const rows = ext.report().plugins;
    expect(rows).toHaveLength(N - 1);
    for (const row of rows) expect(row.heldBy).toBe(name(Number(row.module.slice(1)) - 1));

    // A flag on the root holds and releases the chain too.
    ext.registerModule(name(0), chainLink(0));
    ext.disablePlugin(name(0), 'h', 'p');
    expect(ran(ext)).toEqual([]);
    ext.enablePlugin(name(0), 'h', 'p');
    expect(ran(ext)).toHaveLength(N);
  });

  it(`registers the same chain in reverse order: all held until the root comes`, () => {
    const ext = make();
    const t0 = performance.now();
    for (let i = N - 1; i >= 1; i--) ext.registerModule(name(i), chainLink(i));
    expect(ran(ext)).toEqual([]);
    ext.registerModule(name(0), chainLink(0));
    console.log(`[measure] chain of ${N} registered in reverse order: ${(performance.now() - t0).toFixed(1)} ms`);
    expect(ran(ext)).toEqual(inOrder(N));
  });

  it('registers the chain in a shuffled order: exactly the unbroken prefix runs at every step', () => {
    const ext = make();
    let seed = 16;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const order = inOrder(N).map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const present = new Set<number>();
    const t0 = performance.now();
    order.forEach((i, step) => {
      ext.registerModule(name(i), chainLink(i));
      present.add(i);
      if (step % 1000 === 999) {
        let prefix = 0;
        while (present.has(prefix)) prefix++;
        expect(ran(ext)).toEqual(inOrder(prefix));
      }
    });
    console.log(`[measure] chain of ${N} registered in shuffled order (with 10 checks): ${(performance.now() - t0).toFixed(1)} ms`);
    expect(ran(ext)).toEqual(inOrder(N));
  });

  it('refuses the module that closes a cycle round the whole chain, naming the cycle briefly', () => {
    const ext = make();
    for (let i = 0; i < N; i++) ext.registerModule(name(i), chainLink(i));
    const t0 = performance.now();
    ext.registerModule(name(0), { h_p_Plugin: plug(() => 0, { depends: [name(N - 1)] }) });
    console.log(`[measure] cycle through ${N} modules found: ${(performance.now() - t0).toFixed(1)} ms`);
    const errors = ext.report().status.loadErrors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ module: 'm0', export: 'h_p_Plugin' });
    const message = errors[0]!.message;
    expect(message).toContain(`cycle m0 -> m${N - 1} -> m${N - 2} -> `);
    expect(message).toContain(` -> m2 -> m1 -> m0`);
    expect(message).toMatch(/previous version of the module stays/);
    expect(message.length).toBeLessThan(1000);
    // the previous version of m0 stays, and the chain still runs
    expect(ran(ext)).toEqual(inOrder(N));
  });

  it('names every member of a short cycle found through branches', () => {
    const ext = make();
    // x needs y and z; y needs w; z needs v; v needs u. Then u needing x closes u -> x -> z -> v -> u.
    ext.registerModule('x', { h_p_Plugin: plug(() => 'x', { depends: ['y', 'z'] }) });
    ext.registerModule('y', { h_p_Plugin: plug(() => 'y', { depends: ['w'] }) });
    ext.registerModule('z', { h_p_Plugin: plug(() => 'z', { depends: ['v'] }) });
    ext.registerModule('v', { h_p_Plugin: plug(() => 'v', { depends: ['u'] }) });
    ext.registerModule('w', { h_p_Plugin: () => 'w' });
    ext.registerModule('u', { h_q_Plugin: () => 'u', h_p_Plugin: plug(() => 'u', { depends: ['w', 'x'] }) });
    const errors = ext.report().status.loadErrors;
    expect(errors.map((e) => [e.module, e.export])).toEqual([['u', 'h_p_Plugin']]);
    expect(errors[0]!.message).toMatch(/closes the dependency cycle u -> x -> z -> v -> u;/);
    // u loaded with its other plugin; everything runs, in dependency order
    expect(ran(ext)).toEqual(['v', 'w', 'y', 'z', 'x']);
    // and a self-dependency is the shortest cycle
    ext.registerModule('s', { h_r_Plugin: plug(() => 's', { depends: ['s'] }) });
    expect(ext.report().status.loadErrors[1]!.message).toMatch(/cycle s -> s;/);
  });
});
