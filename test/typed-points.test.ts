/**
 * Typed points and extpoint's errors at run time: descriptors name points for every kind of call, typed
 * plugins carry their metadata, and the framework's own errors are `ExtpointError`s with their codes.
 * (The compile-time half is test/typed-points.test-d.ts.)
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExtension,
  definePlugin,
  definePoint,
  halt,
  isExtpointError,
  ExtpointError,
  ERROR_CODES,
  EASYNC,
  ESTATECORRUPT,
  ETIMEOUT,
  EUNKNOWN,
  StateError,
} from '../src/index.js';

interface Order {
  id: number;
  cents: number;
}
interface Receipt {
  orderId: number;
  by: string;
}

const make = () => createExtension({ scanLoaded: false });
const checkout = definePoint<Order, Receipt>('billing', 'checkout');
const order: Order = { id: 7, cents: 999 };

describe('definePoint', () => {
  it('returns a frozen descriptor of the module and point', () => {
    expect(checkout).toEqual({ module: 'billing', point: 'checkout' });
    expect(Object.isFrozen(checkout)).toBe(true);
  });

  it('refuses names that break the naming rules, saying which rule', () => {
    expect(() => definePoint('bad-module', 'checkout')).toThrow(TypeError);
    expect(() => definePoint('bad-module', 'checkout')).toThrow(/invalid module name "bad-module": a module argument is 1 to 255 letters/);
    expect(() => definePoint('billing', 'check_out')).toThrow(/invalid point name "check_out": a point is letters and digits only/);
    expect(() => definePoint(42 as never, 'checkout')).toThrow(/invalid module name 42/);
  });
});

describe('calls through a descriptor', () => {
  const setup = () => {
    const ext = make();
    ext.registerModule('card', {
      billing_checkout_Plugin: definePlugin(checkout, (o) => ({ orderId: o.id, by: 'card' }), { priority: 20 }),
    });
    ext.registerModule('cash', {
      billing_checkout_Plugin: definePlugin(checkout, async (o) => ({ orderId: o.id, by: 'cash' }), { priority: 10 }),
    });
    return ext;
  };

  it('reach the same plugins as the names, in the same order', async () => {
    const ext = setup();
    const byName = (await ext.callPlugins('billing', 'checkout', order)).map((r) => r.data);
    expect(byName).toEqual([{ orderId: 7, by: 'cash' }, { orderId: 7, by: 'card' }]);
    expect((await ext.callPlugins(checkout, order)).map((r) => r.data)).toEqual(byName);
    expect((await ext.point(checkout).call(order)).map((r) => r.data)).toEqual(byName);
    const handle = ext.point(checkout);
    expect(handle.module).toBe('billing');
    expect(handle.point).toBe('checkout');
  });

  it('pass the call options on', async () => {
    const ext = make();
    ext.registerModule('slow', { billing_checkout_Plugin: definePlugin(checkout, () => new Promise<Receipt>(() => {})) });
    const [byDescriptor] = await ext.callPlugins(checkout, order, { timeoutMs: 20 });
    expect(byDescriptor!.state).toBe('EXIT');
    expect(isExtpointError(byDescriptor!.data, ETIMEOUT)).toBe(true);
    await expect(ext.callPlugins(checkout, order, { timeout: 5 } as never)).rejects.toThrow(/timeout/);
  });

  it('run sync calls and notify', () => {
    const ext = make();
    const seen: number[] = [];
    ext.registerModule('log', { billing_checkout_Plugin: definePlugin(checkout, (o) => (seen.push(o.id), { orderId: o.id, by: 'log' })) });
    expect(ext.callPluginsSync(checkout, order)).toMatchObject([{ state: 'ok', data: { orderId: 7, by: 'log' } }]);
    expect(ext.point(checkout).callSync(order)).toMatchObject([{ state: 'ok', data: { orderId: 7, by: 'log' } }]);
    ext.notify(checkout, { id: 8, cents: 1 });
    ext.point(checkout).notify({ id: 9, cents: 1 });
    expect(seen).toEqual([7, 7, 8, 9]);
    expect(ext.report().points.find((p) => p.module === 'billing')).toBeDefined();
  });

  it('pipe a state, with halt and private', async () => {
    const ext = make();
    const price = definePoint<{ cents: number }, { cents: number }>('billing', 'price');
    ext.registerModule('tax', { billing_price_Plugin: definePlugin(price, (s) => ({ cents: s.cents + 100 }), { priority: 1 }) });
    ext.registerModule('cap', { billing_price_Plugin: definePlugin(price, (s) => (s.cents > 1000 ? halt({ cents: 1000 }) : s), { priority: 2 }) });
    expect(await ext.pipe(price, { cents: 5 })).toEqual({ cents: 105 });
    expect(await ext.point(price).pipe({ cents: 950 })).toEqual({ cents: 1000 });
    expect(await ext.point(price).pipe({ cents: 5 }, { private: { user: 'ann' } })).toEqual({ cents: 105, user: 'ann' });
  });

  it('reject a descriptor with bad names as the names would', async () => {
    const ext = make();
    const forged = { module: 'bad-module', point: 'checkout' } as typeof checkout;
    await expect(ext.callPlugins(forged, order)).rejects.toThrow(/invalid module name "bad-module"/);
    expect(() => ext.callPluginsSync(forged, order)).toThrow(/invalid module name "bad-module"/);
    expect(() => ext.point(forged)).toThrow(/invalid module name "bad-module"/);
    await expect(ext.pipe(forged, order as never)).rejects.toThrow(/invalid module name "bad-module"/);
  });
});

describe('definePlugin on a point', () => {
  it('returns the function itself, carrying its metadata', () => {
    const fn = (o: Order) => ({ orderId: o.id, by: 'x' });
    const plugin = definePlugin(checkout, fn, { priority: 5, depends: ['ledger'] });
    expect(plugin).toBe(fn);
    expect(plugin.priority).toBe(5);
    expect(plugin.depends).toEqual(['ledger']);
    expect(definePlugin(checkout, (o) => ({ orderId: o.id, by: 'y' })).priority).toBeUndefined();
  });

  it('checks the options at run time too, as the name-free form does', () => {
    const priority = Number('150');
    expect(() => definePlugin(checkout, (o) => ({ orderId: o.id, by: 'x' }), { priority })).toThrow(/priority 150: a priority is an integer from 0 to 100/);
    expect(() => definePlugin(checkout, (o) => ({ orderId: o.id, by: 'x' }), { prority: 5 } as never)).toThrow(/did you mean "priority"/);
    expect(() => definePlugin(checkout, 'not a function' as never)).toThrow(/definePlugin needs a function, not "not a function"/);
    expect(() => definePlugin({} as never)).toThrow(/definePlugin needs a function, not an object/);
    expect(() => definePlugin((n: number) => n, null as never)).toThrow(/definePlugin options must be an object/);
  });
});

describe('ExtpointError', () => {
  it('is the EXIT reason of a timeout, with its message unchanged', async () => {
    const ext = make();
    ext.registerModule('slow', { h_p_Plugin: () => new Promise(() => {}) });
    const [r] = await ext.callPlugins('h', 'p', undefined, { timeoutMs: 20 });
    expect(r!.data).toBeInstanceOf(ExtpointError);
    expect(r!.data).toBeInstanceOf(Error);
    expect(r!.data).toMatchObject({ name: 'ExtpointError', code: ETIMEOUT, message: 'plugin slow.h_p_Plugin did not settle within 20 ms' });
    expect(isExtpointError(r!.data, ETIMEOUT)).toBe(true);
    expect(isExtpointError(r!.data, EASYNC)).toBe(false);
  });

  it('is the EXIT reason of a promise given to a sync call', () => {
    const ext = make();
    ext.registerModule('lazy', { h_p_Plugin: async () => 1 });
    const [r] = ext.callPluginsSync('h', 'p');
    expect(isExtpointError(r!.data, EASYNC)).toBe(true);
    expect((r!.data as Error).message).toMatch(/^plugin lazy.h_p_Plugin returned a promise to a synchronous call/);
  });

  it('is what health() rejects with for an unknown point', async () => {
    const err = await make().health('nobody', 'here').catch((e: unknown) => e);
    expect(isExtpointError(err, EUNKNOWN)).toBe(true);
  });

  it('is what a corrupt state file rejects with (StateError is one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-types-'));
    try {
      const file = join(dir, 'state.json');
      writeFileSync(file, '{ not json', { mode: 0o600 });
      const ext = createExtension({ scanLoaded: false, stateFile: file });
      const err = await ext.start().catch((e: unknown) => e);
      await ext.stop();
      expect(err).toBeInstanceOf(StateError);
      expect(isExtpointError(err, ESTATECORRUPT)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is told apart from look-alikes and from other codes', () => {
    const lookAlike = Object.assign(new Error('x'), { code: ETIMEOUT });
    expect(isExtpointError(lookAlike)).toBe(false);
    expect(isExtpointError({ code: ETIMEOUT, message: 'x' })).toBe(false);
    expect(isExtpointError(null)).toBe(false);
    expect(isExtpointError(new ExtpointError(EUNKNOWN, 'x'), ETIMEOUT)).toBe(false);
    expect(new ExtpointError(ETIMEOUT, 'x')).not.toBeInstanceOf(StateError);
    expect(new StateError('ESTATEIO', 'x')).toBeInstanceOf(ExtpointError);
    expect(ERROR_CODES).toEqual(['ETIMEOUT', 'EASYNC', 'EUNKNOWN', 'ESTATECORRUPT', 'ESTATELOCKED', 'ESTATEPERM', 'ESTATEIO', 'ENODEDOWN', 'EDATACLONE', 'EABORT']);
  });

  it('is recognised across copies of extpoint in one process', async () => {
    vi.resetModules();
    const other = await import('../src/core/errors.js');
    expect(other.ExtpointError).not.toBe(ExtpointError);
    const foreign = new other.ExtpointError(other.ETIMEOUT, 'from another copy');
    expect(foreign).toBeInstanceOf(ExtpointError);
    expect(isExtpointError(foreign, ETIMEOUT)).toBe(true);
  });
});

afterAll(() => vi.resetModules());
