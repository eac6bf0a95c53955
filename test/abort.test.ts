/**
 * `signal` on `callPlugins`, point handles and `pipe`: aborting ends the call at once, plugins that have not
 * settled (or not started) give EXIT EABORT, counted as exits, and plugins get `{ signal }` as a second
 * argument. Without a signal nothing changes: plugins get one argument.
 */
import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import {
  createExtension,
  definePlugin,
  definePoint,
  isExtpointError,
  EABORT,
  ETIMEOUT,
  type Extension,
  type PluginContext,
  type PluginResult,
} from '../src/index.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

/** A promise that never settles: only the signal can end a call waiting on it. */
const never = () => new Promise<never>(() => {});

/** What each result is: its module, state, and the EXIT's code when it has one. */
const states = (results: PluginResult[]) =>
  results.map((r) => [r.info.module, r.state, r.state === 'EXIT' ? (r.data as { code?: unknown }).code ?? r.data : r.data]);

const counters = (ext: Extension) => ext.report().plugins.map((p) => [p.module, p.ok, p.exit]);

/** Three plugins on h.p, in module order: a fast one, one that waits until told, and one after it. */
function threePlugins(): { ext: Extension; release: (v: string) => void; calledC: () => number } {
  const ext = createExtension();
  let release!: (v: string) => void;
  let c = 0;
  ext.registerModule('a', { h_p_Plugin: async (x: number) => x + 1 });
  ext.registerModule('b', { h_p_Plugin: () => new Promise<string>((resolve) => (release = resolve)) });
  ext.registerModule('c', {
    h_p_Plugin: () => {
      c++;
      return 'c';
    },
  });
  return { ext, release: (v) => release(v), calledC: () => c };
}

describe('callPlugins with a signal', () => {
  it('one after another: the fast plugin is ok, the slow one and the one not yet started are EABORT', async () => {
    const { ext, release, calledC } = threePlugins();
    const controller = new AbortController();
    const call = ext.callPlugins('h', 'p', 1, { signal: controller.signal });
    await sleep(5);
    controller.abort();
    const results = await call;
    expect(states(results)).toEqual([
      ['a', 'ok', 2],
      ['b', 'EXIT', EABORT],
      ['c', 'EXIT', EABORT],
    ]);
    expect(calledC()).toBe(0);
    expect(isExtpointError(results[1]!.data, EABORT)).toBe(true);
    expect((results[1]!.data as Error).message).toBe("plugin b.h_p_Plugin was cut off: the call's signal was aborted");
    // an EABORT counts as an exit, like an ETIMEOUT; the plugin's late value changes nothing
    release('late');
    await sleep(5);
    expect(counters(ext)).toEqual([
      ['a', 1, 0],
      ['b', 0, 1],
      ['c', 0, 1],
    ]);
    expect(ext.report().status.exitReasons.map((e) => [e.module, (e.reason as { code?: string }).code])).toEqual([
      ['b', EABORT],
      ['c', EABORT],
    ]);
  });

  it('all at once: plugins that settled keep their results, the rest are EABORT', async () => {
    const { ext, calledC } = threePlugins();
    const controller = new AbortController();
    const call = ext.callPlugins('h', 'p', 1, { signal: controller.signal, parallel: true });
    await sleep(5);
    controller.abort();
    expect(states(await call)).toEqual([
      ['a', 'ok', 2],
      ['b', 'EXIT', EABORT],
      ['c', 'ok', 'c'],
    ]);
    expect(calledC()).toBe(1);
    expect(counters(ext)).toEqual([
      ['a', 1, 0],
      ['b', 0, 1],
      ['c', 1, 0],
    ]);
  });

  it('a signal that is never aborted changes no result', async () => {
    const { ext, release } = threePlugins();
    const signal = new AbortController().signal;
    const call = ext.callPlugins('h', 'p', 1, { signal });
    await sleep(1);
    release('b');
    expect(states(await call)).toEqual([
      ['a', 'ok', 2],
      ['b', 'ok', 'b'],
      ['c', 'ok', 'c'],
    ]);
    // the call listened only while it waited
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted signal: every plugin is EABORT and none runs', async () => {
    const ext = createExtension();
    let runs = 0;
    ext.registerModule('a', { h_p_Plugin: () => ++runs });
    ext.registerModule('b', { h_p_Plugin: () => ++runs });
    const reason = new Error('user left');
    for (const parallel of [false, true]) {
      const results = await ext.callPlugins('h', 'p', null, { signal: AbortSignal.abort(reason), parallel });
      expect(states(results)).toEqual([
        ['a', 'EXIT', EABORT],
        ['b', 'EXIT', EABORT],
      ]);
      expect((results[0]!.data as Error).cause).toBe(reason);
    }
    expect(runs).toBe(0);
    expect(counters(ext)).toEqual([
      ['a', 0, 2],
      ['b', 0, 2],
    ]);
    // no plugins: nothing to abort
    expect(await ext.callPlugins('h', 'none', null, { signal: AbortSignal.abort() })).toEqual([]);
  });

  it("passes { signal } as the plugins' second argument; the abort reason reaches them and the EXIT's cause", async () => {
    const ext = createExtension();
    const seen: unknown[] = [];
    ext.registerModule('a', {
      h_p_Plugin: (_x: unknown, context?: PluginContext) => {
        seen.push(context);
        return new Promise((_resolve, reject) => context!.signal.addEventListener('abort', () => reject(context!.signal.reason)));
      },
    });
    const controller = new AbortController();
    const call = ext.callPlugins('h', 'p', 1, { signal: controller.signal });
    const reason = { why: 'shutting down' };
    controller.abort(reason);
    const [r] = await call;
    expect(seen).toEqual([{ signal: controller.signal }]);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(r!.state).toBe('EXIT');
    // the call ends at the abort itself: the EXIT is the call's EABORT, whose cause is the reason
    expect(isExtpointError(r!.data, EABORT)).toBe(true);
    expect((r!.data as Error).cause).toBe(reason);
  });

  it('a plugin that listens to the signal stops its work', async () => {
    const ext = createExtension();
    let finished = false;
    let stopped = false;
    ext.registerModule('a', {
      h_p_Plugin: definePlugin((_x: unknown, context?: PluginContext) => {
        return new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => {
            finished = true;
            resolve('done');
          }, 200);
          context?.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            stopped = true;
            reject(context.signal.reason);
          });
        });
      }),
    });
    const controller = new AbortController();
    const call = ext.callPlugins('h', 'p', null, { signal: controller.signal });
    await sleep(5);
    controller.abort();
    expect(states(await call)).toEqual([['a', 'EXIT', EABORT]]);
    expect(stopped).toBe(true);
    await sleep(250);
    expect(finished).toBe(false);
  });

  it('a plugin that aborts the signal itself keeps its result; the plugins after it are EABORT', async () => {
    const ext = createExtension();
    const controller = new AbortController();
    ext.registerModule('a', {
      h_p_Plugin: () => {
        controller.abort();
        return 'stop';
      },
    });
    ext.registerModule('b', { h_p_Plugin: () => 'b' });
    for (const parallel of [false, true]) {
      const results = await ext.callPlugins('h', 'p', null, { signal: controller.signal, parallel });
      // the second time the signal is already aborted: nothing runs
      expect(states(results)).toEqual(
        parallel
          ? [
              ['a', 'EXIT', EABORT],
              ['b', 'EXIT', EABORT],
            ]
          : [
              ['a', 'ok', 'stop'],
              ['b', 'EXIT', EABORT],
            ],
      );
    }
    const fresh = new AbortController();
    ext.registerModule('a', {
      h_p_Plugin: () => {
        fresh.abort();
        return 'stop';
      },
    });
    ext.registerModule('c', { h_p_Plugin: never });
    expect(states(await ext.callPlugins('h', 'p', null, { signal: fresh.signal, parallel: true }))).toEqual([
      ['a', 'ok', 'stop'],
      ['b', 'EXIT', EABORT],
      ['c', 'EXIT', EABORT],
    ]);
  });

  it('a plugin that aborts the signal and returns a promise is EABORT at once, in calls and pipes', async () => {
    await noUnhandledRejections(async () => {
      const ext = createExtension();
      let controller = new AbortController();
      ext.registerModule('a', {
        h_p_Plugin: () => {
          controller.abort();
          return sleep(5).then(() => Promise.reject(new Error('late')));
        },
      });
      ext.registerModule('b', { h_p_Plugin: (x: unknown) => x });
      for (const parallel of [false, true]) {
        controller = new AbortController();
        expect(states(await ext.callPlugins('h', 'p', 1, { signal: controller.signal, parallel }))).toEqual([
          ['a', 'EXIT', EABORT],
          ['b', 'EXIT', EABORT],
        ]);
      }
      controller = new AbortController();
      expect(await ext.pipe('h', 'p', 1, { signal: controller.signal, timeoutMs: 60_000 })).toBe(1);
      expect(counters(ext)).toEqual([
        ['a', 0, 3],
        ['b', 0, 2],
      ]);
      await sleep(10);
    });
  });

  it('timeoutMs still applies with a signal, and a plugin that throws is its EXIT as ever', async () => {
    const ext = createExtension();
    const boom = new Error('boom');
    ext.registerModule('a', { h_p_Plugin: never });
    ext.registerModule('b', {
      h_p_Plugin: () => {
        throw boom;
      },
    });
    ext.registerModule('c', { h_p_Plugin: async () => Promise.reject(boom) });
    const signal = new AbortController().signal;
    for (const parallel of [false, true]) {
      const results = await ext.callPlugins('h', 'p', null, { signal, timeoutMs: 20, parallel });
      expect(states(results)).toEqual([
        ['a', 'EXIT', ETIMEOUT],
        ['b', 'EXIT', boom],
        ['c', 'EXIT', boom],
      ]);
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('leaves no rejection unhandled: plugins that reject after the abort, or reject the reason', async () => {
    await noUnhandledRejections(async () => {
      const ext = createExtension();
      ext.registerModule('a', { h_p_Plugin: () => sleep(10).then(() => Promise.reject(new Error('late'))) });
      ext.registerModule('b', {
        h_p_Plugin: (_x: unknown, context?: PluginContext) =>
          new Promise((_resolve, reject) => context?.signal.addEventListener('abort', () => reject(context.signal.reason))),
      });
      for (const parallel of [false, true]) {
        const controller = new AbortController();
        const call = ext.callPlugins('h', 'p', null, { signal: controller.signal, parallel });
        await sleep(1);
        controller.abort();
        expect((await call).map((r) => r.state)).toEqual(['EXIT', 'EXIT']);
      }
      await sleep(30);
    });
  });

  it('works on profiled points and on points too large for generated code', async () => {
    const ext = createExtension();
    for (let i = 0; i < 40; i++) ext.registerModule(`m${String(i).padStart(2, '0')}`, { h_big_Plugin: (x: number) => x + i });
    ext.registerModule('slow', { h_big_Plugin: never, h_prof_Plugin: never });
    ext.registerModule('fast', { h_prof_Plugin: () => 'fast' });
    ext.profile('h', 'prof', true);
    const controller = new AbortController();
    const big = ext.callPlugins('h', 'big', 1, { signal: controller.signal });
    const prof = ext.callPlugins('h', 'prof', 1, { signal: controller.signal });
    await sleep(5);
    controller.abort();
    const results = await big;
    expect(results.filter((r) => r.state === 'ok')).toHaveLength(40);
    expect(states(results.filter((r) => r.state === 'EXIT'))).toEqual([['slow', 'EXIT', EABORT]]);
    expect(states(await prof)).toEqual([
      ['fast', 'ok', 'fast'],
      ['slow', 'EXIT', EABORT],
    ]);
    const profile = ext.report().plugins.find((p) => p.module === 'slow' && p.fn === 'h_prof_Plugin')!.profile;
    expect(profile?.count).toBe(1);
  });
});

describe('a point handle with a signal', () => {
  it('ends its call when aborted, typed by the point', async () => {
    const checkout = definePoint<{ id: number }, string>('shop', 'checkout');
    const ext = createExtension();
    ext.registerModule('card', { shop_checkout_Plugin: definePlugin(checkout, (o) => `card ${o.id}`) });
    ext.registerModule('wire', { shop_checkout_Plugin: definePlugin(checkout, never) });
    const handle = ext.point(checkout);
    const controller = new AbortController();
    const call = handle.call({ id: 7 }, { signal: controller.signal });
    await sleep(5);
    controller.abort();
    expect(states(await call)).toEqual([
      ['card', 'ok', 'card 7'],
      ['wire', 'EXIT', EABORT],
    ]);
    // AbortSignal.timeout works as any signal
    expect(states(await handle.call({ id: 8 }, { signal: AbortSignal.timeout(10) }))).toEqual([
      ['card', 'ok', 'card 8'],
      ['wire', 'EXIT', EABORT],
    ]);
  });
});

describe('calls without a signal', () => {
  it('pass plugins one argument, in every kind of call', async () => {
    const ext = createExtension();
    const lengths: number[] = [];
    ext.registerModule('a', {
      h_p_Plugin(...args: unknown[]) {
        lengths.push(args.length);
        return args[0];
      },
    });
    ext.callPluginsSync('h', 'p', 1);
    ext.notify('h', 'p', 1);
    await ext.callPlugins('h', 'p', 1);
    await ext.callPlugins('h', 'p', 1, { timeoutMs: 100, parallel: true });
    await ext.pipe('h', 'p', 1);
    await ext.pipe('h', 'p', 1, { timeoutMs: 100 });
    expect(lengths).toEqual([1, 1, 1, 1, 1, 1]);
    await ext.callPlugins('h', 'p', 1, { signal: new AbortController().signal });
    await ext.pipe('h', 'p', 1, { signal: new AbortController().signal });
    expect(lengths).toEqual([1, 1, 1, 1, 1, 1, 2, 2]);
  });
});

describe('a bad signal', () => {
  it('is a TypeError naming the option, from calls, handles and pipes', async () => {
    const ext = createExtension();
    ext.registerModule('a', { h_p_Plugin: (x: unknown) => x });
    const message = /^extpoint: option signal must be an AbortSignal \(new AbortController\(\)\.signal, AbortSignal\.timeout\(ms\)\), not /;
    for (const bad of [new AbortController(), { aborted: false }, null, 'stop', true]) {
      await expect(ext.callPlugins('h', 'p', 1, { signal: bad as never })).rejects.toThrow(TypeError);
      await expect(ext.callPlugins('h', 'p', 1, { signal: bad as never })).rejects.toThrow(message);
      await expect(ext.point('h', 'p').call(1, { signal: bad as never })).rejects.toThrow(message);
      await expect(ext.pipe('h', 'p', 1, { signal: bad as never })).rejects.toThrow(message);
      await expect(ext.callPlugins('h', 'none', 1, { signal: bad as never })).rejects.toThrow(message);
      await expect(ext.pipe('h', 'none', 1, { signal: bad as never })).rejects.toThrow(message);
    }
    await expect(ext.callPlugins('h', 'p', 1, { signal: {} as never })).rejects.toThrow(/not an object$/);
    await expect(ext.callPlugins('h', 'p', 1, { signall: AbortSignal.abort() } as never)).rejects.toThrow(
      'unknown option "signall" in call options; did you mean "signal"?',
    );
    await expect(ext.pipe('h', 'p', 1, { sigal: AbortSignal.abort() } as never)).rejects.toThrow(
      'unknown option "sigal" in pipe options; did you mean "signal"?',
    );
  });
});
