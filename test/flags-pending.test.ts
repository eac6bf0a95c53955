/**
 * Flag calls say what happened: `'applied'` when their plugin or point is registered now, `'pending'` when the
 * flag is only kept for later (a typo looks exactly like that), and `report()` lists the pending ones.
 */
import { describe, expect, it } from 'vitest';
import { createExtension, type Extension } from '../src/index.js';

function shop(): Extension {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule('billing', { billing_checkout_Extension: () => [], billing_checkout_Plugin: () => 'own' });
  ext.registerModule('anat', { billing_checkout_Plugin: () => 'anat' });
  return ext;
}

describe('what a flag call returns', () => {
  it('is applied for a plugin registered now, pending for a typo', () => {
    const ext = shop();
    expect(ext.disablePlugin('anat', 'billing', 'checkout')).toBe('applied');
    expect(ext.enablePlugin('anat', 'billing', 'checkout')).toBe('applied');
    expect(ext.disablePlugin('anta', 'billing', 'checkout')).toBe('pending');
    expect(ext.disablePlugin('anat', 'billing', 'chekout')).toBe('pending');
    expect(ext.enablePlugin('anat', 'biling', 'checkout')).toBe('pending');
    // The typo changed nothing that runs.
    expect(ext.callPluginsSync('billing', 'checkout').map((r) => r.data)).toEqual(['anat', 'own']);
  });

  it('is applied for a declared point or one with plugins, pending for an unknown one', () => {
    const ext = shop();
    ext.registerModule('mailer', { shipping_dispatch_Plugin: () => 'sent' }); // plugins, no declaration
    expect(ext.disablePoint('billing', 'checkout')).toBe('applied');
    expect(ext.enablePoint('billing', 'checkout')).toBe('applied');
    expect(ext.disablePoint('shipping', 'dispatch')).toBe('applied');
    expect(ext.disablePoint('billing', 'refund')).toBe('pending');
    expect(ext.enablePoint('biling', 'checkout')).toBe('pending');
  });

  it('turns pending into applied once the plugin registers, and pending again when it leaves', () => {
    const ext = shop();
    expect(ext.disablePlugin('late', 'billing', 'checkout')).toBe('pending');
    ext.registerModule('late', { billing_checkout_Plugin: () => 'late' });
    expect(ext.callPluginsSync('billing', 'checkout').map((r) => r.data)).toEqual(['anat', 'own']);
    expect(ext.disablePlugin('late', 'billing', 'checkout')).toBe('applied');
    ext.unregisterModule('late');
    expect(ext.enablePlugin('late', 'billing', 'checkout')).toBe('pending');
  });

  it('is still pending when the same flag is set twice', () => {
    const ext = shop();
    expect(ext.disablePoint('nowhere', 'p')).toBe('pending');
    expect(ext.disablePoint('nowhere', 'p')).toBe('pending');
  });
});

describe('names that break the naming rules', () => {
  it.each([
    ['disablePlugin', ['bad name', 'billing', 'checkout'], /plugin module name "bad name".*letters, digits, _ - \. or \$/],
    ['enablePlugin', ['anat', 'bil-ling', 'checkout'], /module name "bil-ling".*letters, digits, _ or \$/],
    ['disablePlugin', ['anat', 'billing', 'check_out'], /point name "check_out".*letters and digits only/],
    ['disablePoint', ['billing', ''], /point name "".*letters and digits only/],
    ['enablePoint', ['', 'checkout'], /module name "".*1 to 255/],
    ['disablePoint', ['billing', 42], /point name 42/],
  ] as const)('%s(%j) throws a TypeError naming the rule', (call, args, message) => {
    const ext = shop();
    const fn = ext[call] as (...a: unknown[]) => unknown;
    expect(() => fn.apply(ext, [...args])).toThrow(TypeError);
    expect(() => fn.apply(ext, [...args])).toThrow(message);
    expect(ext.report().status.pendingFlags).toEqual([]);
  });
});

describe('report() lists pending flags', () => {
  it('lists flags kept for plugins and points not registered now, not those applied', () => {
    const ext = shop();
    ext.disablePlugin('anat', 'billing', 'checkout'); // applied: not listed
    ext.disablePlugin('anta', 'billing', 'checkout');
    ext.disablePoint('billing', 'refund');
    ext.enablePlugin('ledger', 'billing', 'checkout');
    expect(ext.report().status.pendingFlags).toEqual([
      { kind: 'plugin', fn: 'billing_checkout_Plugin', module: 'anta', node: 'local', enabled: false },
      { kind: 'point', fn: 'billing_refund_Extension', module: 'billing', node: 'local', enabled: false },
      { kind: 'plugin', fn: 'billing_checkout_Plugin', module: 'ledger', node: 'local', enabled: true },
    ]);
  });

  it('drops a pending flag from the list when its plugin or point registers, and survives JSON', () => {
    const ext = shop();
    ext.disablePlugin('late', 'billing', 'checkout');
    ext.disablePoint('billing', 'refund');
    ext.registerModule('late', { billing_checkout_Plugin: () => 'late' });
    ext.registerModule('billing', {
      billing_checkout_Extension: () => [],
      billing_refund_Extension: () => [],
      billing_checkout_Plugin: () => 'own',
    });
    expect(ext.report().status.pendingFlags).toEqual([]);
    ext.unregisterModule('late');
    const listed = JSON.parse(JSON.stringify(ext.report().status.pendingFlags));
    expect(listed).toEqual([{ kind: 'plugin', fn: 'billing_checkout_Plugin', module: 'late', node: 'local', enabled: false }]);
  });

  it('shows pending flags in the text report', () => {
    const ext = shop();
    ext.disablePlugin('anta', 'billing', 'checkout');
    const text = String(ext.report());
    expect(text).toMatch(/pending flags \(1\)/);
    expect(text).toMatch(/anta billing_checkout_Plugin.*disable.*not registered now/);
  });
});
