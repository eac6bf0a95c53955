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
/** A small seeded generator (mulberry32): the same sequence on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
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

describe('holds match a from-scratch computation after any sequence of changes (items 1 and 2)', () => {
  it('2,000 random registrations, reloads, removals and flag changes over 30 modules', () => {
    const ext = make();
    const random = seeded(2);
    const rnd = (n: number) => Math.floor(random() * n);
    const M = 30;
    const points = ['p', 'q', 'r'];
    type Plugin = { point: string; depends: string[] };
    const model = new Map<number, { plugins: Plugin[]; refused: number }>();
    const enabled = new Map<string, boolean>();
    const flag = (i: number, point: string) => enabled.get(`m${i}|${point}`) ?? true;

    for (let step = 0; step < 2000; step++) {
      const i = rnd(M);
      const op = rnd(10);
      if (op < 6) {
        // (re)register m<i>: plugins on distinct points, depending only on lower-numbered modules (no cycles)
        const exportsOf: Record<string, unknown> = {};
        const plugins: Plugin[] = [];
        let refused = 0;
        for (const point of points) {
          if (rnd(2) === 0) continue;
          const depends: string[] = [];
          for (let j = 0; j < i; j++) if (rnd(6) === 0) depends.push(`m${j}`);
          if (rnd(10) === 0) depends.push('never');
          if (rnd(8) === 0) {
            exportsOf[`h_${point}_Plugin`] = plug(() => i, { depends, priority: 500 });
            refused++;
          } else {
            exportsOf[`h_${point}_Plugin`] = plug(() => i, { depends });
            plugins.push({ point, depends });
          }
        }
        ext.registerModule(`m${i}`, exportsOf);
        model.set(i, { plugins, refused });
      } else if (op < 8) {
        ext.unregisterModule(`m${i}`);
        model.delete(i);
      } else {
        const point = points[rnd(points.length)]!;
        const on = !flag(i, point);
        enabled.set(`m${i}|${point}`, on);
        if (on) ext.enablePlugin(`m${i}`, 'h', point);
        else ext.disablePlugin(`m${i}`, 'h', point);
      }

      // The reference: modules in index order are in dependency order.
      const satisfied = new Set<string>();
      const expected: Array<[string, string, string | null]> = [];
      for (let j = 0; j < M; j++) {
        const record = model.get(j);
        if (record === undefined) continue;
        let runs = false;
        for (const plugin of record.plugins) {
          const held = plugin.depends.find((d) => !satisfied.has(d)) ?? null;
          expected.push([`m${j}`, plugin.point, held]);
          if (held === null && flag(j, plugin.point)) runs = true;
        }
        if (record.plugins.length > 0 ? runs : record.refused === 0) satisfied.add(`m${j}`);
      }
      const actual = ext
        .report()
        .plugins.map((row): [string, string, string | null] => [row.module, row.fn.split('_')[1]!, row.heldBy]);
      const key = (x: [string, string, string | null]) => `${x[0]} ${x[1]}`;
      expect(actual.sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual(expected.sort((a, b) => (key(a) < key(b) ? -1 : 1)));
    }
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
    await expect(ext.health('host', 'chekout')).rejects.toMatchObject({ code: 'EUNKNOWN' });
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
          slow: [],
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
    const random = seeded(16);
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

  it(`orders ${N} plugins that all wait for one root on the same point: root first, then by priority and name`, () => {
    const ext = make();
    const t0 = performance.now();
    for (let i = 1; i <= N; i++) {
      ext.registerModule(name(i), { h_p_Plugin: plug(() => i, { depends: ['root'], priority: i % 3 }) });
    }
    ext.registerModule('root', { h_p_Plugin: plug(() => 'root', { priority: 100 }) });
    const modules = ran(ext);
    console.log(`[measure] star of ${N} registered and ordered: ${(performance.now() - t0).toFixed(1)} ms`);
    const rest = Array.from({ length: N }, (_, k) => k + 1).sort((a, b) => a % 3 - b % 3 || (name(a) < name(b) ? -1 : 1));
    expect(modules).toEqual(['root', ...rest.map(name)]);
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
