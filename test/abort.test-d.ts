/**
 * Compile-time tests of `signal` (run by `npm test`, in vitest's typecheck mode): the call options take an
 * AbortSignal and nothing else, and a plugin's optional second parameter is the call's `{ signal }`. Each
 * `@ts-expect-error` line must fail to compile.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  createExtension,
  definePlugin,
  definePoint,
  isExtpointError,
  EABORT,
  type CallOptions,
  type ExtpointError,
  type PipeOptions,
  type PluginContext,
  type PluginFor,
} from '../src/index.js';

interface Order {
  id: number;
}
interface Receipt {
  orderId: number;
}

const checkout = definePoint<Order, Receipt>('billing', 'checkout');
const price = definePoint<Order, Order>('billing', 'price');
const ext = createExtension();
const order: Order = { id: 1 };
const signal = new AbortController().signal;

describe('the signal option', () => {
  it('is an AbortSignal on calls, handles and pipes', () => {
    expectTypeOf<CallOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
    expectTypeOf<PipeOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
    void ext.point(checkout).call(order, { signal });
    void ext.callPlugins(checkout, order, { signal, timeoutMs: 10, parallel: true });
    void ext.callPlugins('billing', 'refund', order, { signal });
    void ext.point('billing', 'refund').call(order, { signal });
    void ext.pipe(price, order, { signal });
    void ext.point(price).pipe(order, { signal, returnInput: true });
    // @ts-expect-error not an AbortSignal
    void ext.point(checkout).call(order, { signal: new AbortController() });
    // @ts-expect-error not an AbortSignal
    void ext.callPlugins('billing', 'refund', order, { signal: true });
    // @ts-expect-error not an AbortSignal
    void ext.pipe(price, order, { signal: 'stop' });
  });

  it('is not an option of the synchronous calls', () => {
    // @ts-expect-error callSync takes no options
    ext.point(checkout).callSync(order, { signal });
    // @ts-expect-error notify takes no options
    ext.point(checkout).notify(order, { signal });
  });
});

describe("a plugin's second parameter", () => {
  it('is the optional context, typed by the point', () => {
    const plugin = definePlugin(checkout, (o, context) => {
      expectTypeOf(o).toEqualTypeOf<Order>();
      expectTypeOf(context).toEqualTypeOf<PluginContext | undefined>();
      expectTypeOf(context!.signal).toEqualTypeOf<AbortSignal>();
      return { orderId: o.id };
    });
    expectTypeOf(plugin).parameter(1).toEqualTypeOf<PluginContext | undefined>();
    expectTypeOf<Parameters<PluginFor<Order, Receipt>>>().toEqualTypeOf<[args: Order, context?: PluginContext]>();
  });

  it('may be left out, and is accepted by definePlugin without a point', () => {
    definePlugin(checkout, (o) => ({ orderId: o.id }));
    definePlugin((o: Order, context?: PluginContext) => context?.signal.aborted ?? o.id, { priority: 5 });
    definePlugin(price, async (o, context) => {
      await new Promise((resolve) => context?.signal.addEventListener('abort', resolve));
      return o;
    });
  });

  it('is never given when a call passes no signal, so a plugin cannot require it', () => {
    // @ts-expect-error the context is optional: sync calls, notify and calls without a signal pass none
    definePlugin(checkout, (o: Order, context: PluginContext) => ({ orderId: o.id + Number(context.signal.aborted) }));
    // @ts-expect-error the second parameter is the context, not anything else
    definePlugin(checkout, (o: Order, extra: string) => ({ orderId: o.id + extra.length }));
  });
});

describe('EABORT', () => {
  it('narrows an EXIT reason', () => {
    const data: unknown = null;
    if (isExtpointError(data, EABORT)) {
      expectTypeOf(data).toEqualTypeOf<ExtpointError<'EABORT'>>();
      expectTypeOf(data.code).toEqualTypeOf<'EABORT'>();
    }
  });
});
