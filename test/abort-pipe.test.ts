/**
 * `signal` on `pipe`: aborting fails the chain as a timeout does. The step being awaited (or the next to
 * run) records an EABORT exit, later steps do not run, and the pipe resolves with its input.
 */
import { describe, expect, it } from 'vitest';
import { createExtension, definePlugin, definePoint, halt, isExtpointError, EABORT, type Extension, type PluginContext } from '../src/index.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

interface Cart {
  cents: number;
  steps: string[];
}

const counters = (ext: Extension) => ext.report().plugins.map((p) => [p.module, p.ok, p.exit]);
const lastExit = (ext: Extension) => ext.report().status.exitReasons.at(-1);

/** Three steps on shop.price, in module order: add 100, wait until told (or aborted), add 1. */
function chain(): { ext: Extension; release: () => void; ran: string[] } {
  const ext = createExtension();
  const ran: string[] = [];
  let release!: () => void;
  ext.registerModule('a', {
    shop_price_Plugin: (c: Cart) => {
      ran.push('a');
      return { cents: c.cents + 100, steps: [...c.steps, 'a'] };
    },
  });
  ext.registerModule('b', {
    shop_price_Plugin: (c: Cart) => {
      ran.push('b');
      return new Promise<Cart>((resolve) => (release = () => resolve({ ...c, steps: [...c.steps, 'b'] })));
    },
  });
  ext.registerModule('c', {
    shop_price_Plugin: (c: Cart) => {
      ran.push('c');
      return { cents: c.cents + 1, steps: [...c.steps, 'c'] };
    },
  });
  return { ext, release: () => release(), ran };
}

const input = (): Cart => ({ cents: 1000, steps: [] });

describe('pipe with a signal', () => {
  it('runs the chain as ever while the signal is not aborted', async () => {
    const { ext, release } = chain();
    const start = input();
    const piping = ext.pipe('shop', 'price', start, { signal: new AbortController().signal, private: { secret: 1 } });
    await sleep(1);
    release();
    expect(await piping).toEqual({ cents: 1101, steps: ['a', 'b', 'c'], secret: 1 });
  });

  it('aborted while a step is awaited: that step is EABORT, later steps do not run, the input comes back', async () => {
    const { ext, release, ran } = chain();
    const start = input();
    const controller = new AbortController();
    const piping = ext.pipe('shop', 'price', start, { signal: controller.signal });
    await sleep(5);
    const reason = new Error('client gone');
    controller.abort(reason);
    expect(await piping).toBe(start);
    expect(ran).toEqual(['a', 'b']);
    release();
    await sleep(5);
    expect(ran).toEqual(['a', 'b']);
    expect(counters(ext)).toEqual([
      ['a', 1, 0],
      ['b', 0, 1],
      ['c', 0, 0],
    ]);
    const exit = lastExit(ext)!;
    expect(exit.module).toBe('b');
    expect(isExtpointError(exit.reason, EABORT)).toBe(true);
    expect((exit.reason as Error).cause).toBe(reason);
  });

  it('aborted between steps (by a step itself): the next step is EABORT and does not run', async () => {
    const ext = createExtension();
    const controller = new AbortController();
    let ranB = false;
    ext.registerModule('a', {
      shop_price_Plugin: (c: Cart) => {
        controller.abort();
        return c;
      },
    });
    ext.registerModule('b', {
      shop_price_Plugin: (c: Cart) => {
        ranB = true;
        return c;
      },
    });
    const start = input();
    expect(await ext.pipe('shop', 'price', start, { signal: controller.signal, returnInput: true })).toBe(start);
    expect(ranB).toBe(false);
    expect(counters(ext)).toEqual([
      ['a', 1, 0],
      ['b', 0, 1],
    ]);
  });

  it('an already aborted signal: the first step is EABORT, nothing runs, the input comes back', async () => {
    const { ext, ran } = chain();
    const start = input();
    expect(await ext.pipe('shop', 'price', start, { signal: AbortSignal.abort() })).toBe(start);
    expect(ran).toEqual([]);
    expect(counters(ext)).toEqual([
      ['a', 0, 1],
      ['b', 0, 0],
      ['c', 0, 0],
    ]);
    // no steps: the input as ever
    expect(await ext.pipe('shop', 'none', start, { signal: AbortSignal.abort() })).toBe(start);
  });

  it('steps get { signal }; a step that listens stops, and no rejection goes unhandled', async () => {
    await noUnhandledRejections(async () => {
      const price = definePoint<Cart, Cart>('shop', 'price');
      const ext = createExtension();
      const contexts: unknown[] = [];
      ext.registerModule('a', {
        shop_price_Plugin: definePlugin(price, (c, context) => {
          contexts.push(context);
          return c.cents > 5000 ? halt(c) : c;
        }),
      });
      ext.registerModule('b', {
        shop_price_Plugin: definePlugin(price, (c, context?: PluginContext) => {
          contexts.push(context);
          return new Promise<Cart>((_resolve, reject) => context?.signal.addEventListener('abort', () => reject(context.signal.reason)));
        }),
      });
      const controller = new AbortController();
      const start = input();
      const piping = ext.pipe(price, start, { signal: controller.signal });
      await sleep(1);
      controller.abort();
      expect(await piping).toBe(start);
      expect(contexts).toEqual([{ signal: controller.signal }, { signal: controller.signal }]);
      expect(isExtpointError(lastExit(ext)!.reason, EABORT)).toBe(true);
      // halt ends the chain as ever
      const big = { cents: 9000, steps: [] };
      expect(await ext.point(price).pipe(big, { signal: new AbortController().signal })).toBe(big);
    });
  });

  it('works on profiled points', async () => {
    const { ext, release } = chain();
    ext.profile('shop', 'price', true);
    const controller = new AbortController();
    const start = input();
    const piping = ext.pipe('shop', 'price', start, { signal: controller.signal, timeoutMs: 1000 });
    await sleep(5);
    controller.abort();
    expect(await piping).toBe(start);
    release();
    expect(ext.report().plugins.map((p) => [p.module, p.exit, p.profile?.count ?? 0])).toEqual([
      ['a', 0, 1],
      ['b', 1, 1],
      ['c', 0, 0],
    ]);
  });
});
