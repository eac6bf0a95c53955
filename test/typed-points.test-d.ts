/**
 * Compile-time tests of typed points (run by `npm test`, in vitest's typecheck mode): the calls, handles and
 * `definePlugin` are checked against `definePoint`'s types. Each `@ts-expect-error` line must fail to
 * compile; if one starts compiling, the unused directive fails the test.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  createExtension,
  definePlugin,
  definePoint,
  halt,
  isExtpointError,
  ETIMEOUT,
  ExtpointError,
  type Halt,
  type PluginResult,
  type PointHandle,
} from '../src/index.js';

interface Order {
  id: number;
  cents: number;
}
interface Receipt {
  orderId: number;
  paid: boolean;
}
interface Cart {
  items: number[];
}

const checkout = definePoint<Order, Receipt>('billing', 'checkout');
const price = definePoint<Cart, Cart>('billing', 'price');
const paid = definePoint<Order, void>('billing', 'paid');
const tick = definePoint<undefined, number>('clock', 'tick');
const ext = createExtension();
const order: Order = { id: 1, cents: 999 };

describe('a typed handle', () => {
  const handle = ext.point(checkout);

  it('resolves call to results of the point\'s Result', () => {
    expectTypeOf(handle.call(order)).toEqualTypeOf<Promise<PluginResult<Receipt>[]>>();
    expectTypeOf(handle.callSync(order)).toEqualTypeOf<PluginResult<Receipt>[]>();
    expectTypeOf(handle.notify(order)).toEqualTypeOf<void>();
    expectTypeOf(handle.call).parameter(0).toEqualTypeOf<Order>();
  });

  it('narrows ok results to the Result type', async () => {
    for (const r of await handle.call(order, { timeoutMs: 10 })) {
      if (r.state === 'ok') expectTypeOf(r.data).toEqualTypeOf<Receipt>();
      else expectTypeOf(r.data).toEqualTypeOf<unknown>();
    }
  });

  it('refuses a wrong argument', () => {
    // @ts-expect-error a Cart is not an Order
    handle.call({ items: [] });
    // @ts-expect-error the argument is required
    handle.callSync();
    // @ts-expect-error a string is not an Order
    handle.notify('order');
    // @ts-expect-error an unknown call option
    handle.call(order, { timeout: 5 });
  });

  it('refuses a wrong use of the result', async () => {
    const [first] = await handle.call(order);
    if (first?.state === 'ok') {
      // @ts-expect-error a Receipt has no cents
      first.data.cents;
      // @ts-expect-error paid is a boolean
      const n: number = first.data.paid;
      void n;
    }
    // @ts-expect-error the results are not Orders
    const orders: PluginResult<Order>[] = handle.callSync(order);
    void orders;
  });

  it('lets the argument out when the point takes undefined', () => {
    expectTypeOf(ext.point(tick).callSync()).toEqualTypeOf<PluginResult<number>[]>();
    expectTypeOf(ext.point(paid).notify).toBeCallableWith(order);
  });

  it('keeps the name-based handle untyped', () => {
    expectTypeOf(ext.point('billing', 'checkout')).toEqualTypeOf<PointHandle>();
  });
});

describe('the name-based calls given a descriptor', () => {
  it('are typed by the point', () => {
    expectTypeOf(ext.callPlugins(checkout, order)).toEqualTypeOf<Promise<PluginResult<Receipt>[]>>();
    expectTypeOf(ext.callPluginsSync(checkout, order)).toEqualTypeOf<PluginResult<Receipt>[]>();
    expectTypeOf(ext.notify(checkout, order)).toEqualTypeOf<void>();
    expectTypeOf(ext.pipe(price, { items: [1] })).toEqualTypeOf<Promise<Cart>>();
  });

  it('refuse a wrong argument', () => {
    // @ts-expect-error a Cart is not an Order
    void ext.callPlugins(checkout, { items: [] });
    // @ts-expect-error an Order is not a Cart
    void ext.pipe(price, order);
    // @ts-expect-error the argument is required
    ext.callPluginsSync(checkout);
  });

  it('still take names, as before', () => {
    expectTypeOf(ext.callPlugins('billing', 'checkout', order)).toEqualTypeOf<Promise<PluginResult<unknown>[]>>();
    expectTypeOf(ext.callPlugins<Receipt>('billing', 'checkout', order)).toEqualTypeOf<Promise<PluginResult<Receipt>[]>>();
  });
});

describe('pipe', () => {
  it('threads the State, and a step may return it or halt(state)', () => {
    expectTypeOf(ext.point(price).pipe({ items: [] })).toEqualTypeOf<Promise<Cart>>();
    const step = definePlugin(price, (cart) => (cart.items.length > 3 ? halt(cart) : { items: [...cart.items, 1] }));
    expectTypeOf(step).parameter(0).toEqualTypeOf<Cart>();
    const asyncStep = definePlugin(price, async (cart) => halt(cart));
    expectTypeOf(asyncStep).returns.resolves.toEqualTypeOf<Halt<Cart>>();
  });

  it('refuses a step that returns something else, or halts with something else', () => {
    // @ts-expect-error a number is not a Cart
    definePlugin(price, (cart) => cart.items.length);
    // @ts-expect-error halt must carry a Cart
    definePlugin(price, (cart) => halt(cart.items));
  });

  it('types private: merged over an object result, or not (no plugins, a failure)', () => {
    const out = ext.point(price).pipe({ items: [] }, { private: { user: 'ann' } });
    expectTypeOf(out).toEqualTypeOf<Promise<Cart | (Omit<Cart, 'user'> & { user: string })>>();
    // @ts-expect-error private is an object of keys
    void ext.point(price).pipe({ items: [] }, { private: 5 });
  });

  it('is refused on a point whose Result is not its State', () => {
    // @ts-expect-error a Receipt cannot be fed to the next plugin as an Order
    void ext.point(checkout).pipe(order);
    // @ts-expect-error the same through the name-based call
    void ext.pipe(checkout, order);
  });

  it('gives halts as data to calls of a pipe point', () => {
    expectTypeOf(ext.point(price).callSync({ items: [] })).toEqualTypeOf<PluginResult<Cart | Halt<Cart>>[]>();
  });
});

describe('definePlugin on a point', () => {
  it('types the argument and keeps the function', () => {
    const plugin = definePlugin(checkout, (o) => ({ orderId: o.id, paid: true }), { priority: 10 });
    expectTypeOf(plugin).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(plugin.priority).toEqualTypeOf<number | undefined>();
    const asyncPlugin = definePlugin(checkout, async (o) => ({ orderId: o.id, paid: false }));
    expectTypeOf(asyncPlugin).returns.resolves.toExtend<Receipt>();
  });

  it('accepts any return on an event point (Result void), as for callbacks', () => {
    const seen: number[] = [];
    const plugin = definePlugin(paid, (o) => seen.push(o.id));
    expectTypeOf(plugin).parameter(0).toEqualTypeOf<Order>();
    expectTypeOf(ext.point(paid).callSync(order)).toEqualTypeOf<PluginResult<void>[]>();
  });

  it('refuses a wrong plugin signature', () => {
    // @ts-expect-error the plugin returns an Order, not a Receipt
    definePlugin(checkout, (o: Order) => o);
    // @ts-expect-error the plugin takes a Cart, not an Order
    definePlugin(checkout, (cart: Cart) => ({ orderId: cart.items.length, paid: true }));
    // @ts-expect-error paid must be a boolean
    definePlugin(checkout, async (o) => ({ orderId: o.id, paid: 'yes' }));
    // @ts-expect-error an event point's plugin takes an Order
    definePlugin(paid, (n: number) => void n);
  });

  it('checks literal priorities and depends at compile time', () => {
    definePlugin(checkout, (o) => ({ orderId: o.id, paid: true }), { priority: 0, depends: ['ledger', 'my-plugin.v2'] });
    definePlugin((n: number) => n, { priority: 100 });
    // @ts-expect-error priority above 100
    definePlugin(checkout, (o) => ({ orderId: o.id, paid: true }), { priority: 101 });
    // @ts-expect-error negative priority
    definePlugin((n: number) => n, { priority: -1 });
    // @ts-expect-error not an integer
    definePlugin((n: number) => n, { priority: 1.5 });
    // @ts-expect-error a space is not allowed in a module name
    definePlugin((n: number) => n, { depends: ['my ledger'] });
    // @ts-expect-error an empty module name
    definePlugin(checkout, (o) => ({ orderId: o.id, paid: true }), { depends: [''] });
    // @ts-expect-error an unknown option
    definePlugin((n: number) => n, { prority: 5 });
  });

  it('leaves values known only at run time to the run-time check', () => {
    const priority: number = Number('5');
    const depends: string[] = ['x'];
    definePlugin((n: number) => n, { priority, depends });
  });
});

describe('errors', () => {
  it('narrows with the guard', () => {
    const value: unknown = new Error('x');
    if (isExtpointError(value, ETIMEOUT)) expectTypeOf(value.code).toEqualTypeOf<'ETIMEOUT'>();
    if (isExtpointError(value)) expectTypeOf(value).toEqualTypeOf<ExtpointError>();
    // @ts-expect-error not a code extpoint produces
    isExtpointError(value, 'ENOPE');
  });
});
