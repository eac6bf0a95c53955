/**
 * Compile-time tests of points declared by name: once `DeclaredPoints` lists `'shop/order'`, the name-based
 * calls of that point are checked and typed like calls given its descriptor; other names stay untyped.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { createExtension, definePoint, type Halt, type PluginResult, type PointHandle, type TypedPointHandle } from '../src/index.js';

interface Item {
  sku: string;
}
interface Ack {
  accepted: boolean;
}
const shopOrder = definePoint<Item, Ack>('shop', 'order');
const shopBasket = definePoint<Item[], Item[]>('shop', 'basket');

declare module '../src/index.js' {
  interface DeclaredPoints {
    'shop/order': typeof shopOrder;
    'shop/basket': typeof shopBasket;
  }
}

const ext = createExtension();
const item: Item = { sku: 'a1' };

describe('a declared point called by name', () => {
  it('is typed like a call given its descriptor', () => {
    expectTypeOf(ext.callPlugins('shop', 'order', item)).toEqualTypeOf<Promise<PluginResult<Ack>[]>>();
    expectTypeOf(ext.callPluginsSync('shop', 'order', item)).toEqualTypeOf<PluginResult<Ack>[]>();
    expectTypeOf(ext.pipe('shop', 'basket', [item])).toEqualTypeOf<Promise<Item[]>>();
    expectTypeOf(ext.callPluginsSync('shop', 'basket', [item])).toEqualTypeOf<PluginResult<Item[] | Halt<Item[]>>[]>();
  });

  it('gives a typed handle', () => {
    expectTypeOf(ext.point('shop', 'order')).toEqualTypeOf<TypedPointHandle<Item, Ack, Item>>();
    expectTypeOf(ext.point('shop', 'other')).toEqualTypeOf<PointHandle>();
    // @ts-expect-error a number is not an Item
    void ext.point('shop', 'order').call(5);
  });

  it('refuses a wrong argument', () => {
    // @ts-expect-error a number is not an Item
    void ext.callPlugins('shop', 'order', 5);
    // @ts-expect-error the argument is required
    ext.callPluginsSync('shop', 'order');
    // @ts-expect-error an Item is not an Item[]
    ext.notify('shop', 'basket', item);
    // @ts-expect-error an Ack cannot be fed back as an Item
    void ext.pipe('shop', 'order', item);
    // @ts-expect-error a wrong call option
    void ext.callPlugins('shop', 'order', item, { parallel: 'yes' });
  });

  it('refuses a wrong use of the result', () => {
    const [r] = ext.callPluginsSync('shop', 'order', item);
    // @ts-expect-error an Ack has no sku
    if (r?.state === 'ok') void r.data.sku;
  });
});

describe('names not declared', () => {
  it('stay untyped, as before', () => {
    expectTypeOf(ext.callPlugins('shop', 'other', 5)).toEqualTypeOf<Promise<PluginResult<unknown>[]>>();
    expectTypeOf(ext.callPluginsSync('shop', 'other')).toEqualTypeOf<PluginResult<unknown>[]>();
    expectTypeOf(ext.callPlugins<Ack>('shop', 'other', 5, { timeoutMs: 5 })).toEqualTypeOf<Promise<PluginResult<Ack>[]>>();
    expectTypeOf(ext.pipe('shop', 'other', 5)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(ext.pipe('shop', 'other', { a: 1 }, { private: { b: 2 }, timeoutMs: 5 })).toEqualTypeOf<Promise<{ a: number }>>();
    ext.notify('shop', 'other', 'anything');
    const module: string = 'shop';
    expectTypeOf(ext.callPluginsSync(module, 'order', 'anything')).toEqualTypeOf<PluginResult<unknown>[]>();
  });

  it('keep checking call options', () => {
    // @ts-expect-error an unknown call option
    void ext.callPlugins('shop', 'other', 5, { timeout: 5 });
  });
});
