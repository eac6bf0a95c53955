/**
 * The text report as the REPL and `extpoint report` show it: a summary line, each point followed by the
 * plugins that serve it, and colour only when asked.
 */
import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { createExtension, definePlugin } from '../src/index.js';
import { renderReport } from '../src/operator/report-text.js';

function host() {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule('shop', {
    shop_checkout_Extension: () => [],
    shop_refund_Extension: () => [],
    shop_checkout_Plugin: () => 'charged',
  });
  ext.registerModule('audit', {
    shop_checkout_Plugin: () => {
      throw new Error('audit store unreachable');
    },
  });
  ext.registerModule('mailer', { shipping_dispatch_Plugin: () => 'sent' });
  ext.registerModule('ledgerUser', { shop_checkout_Plugin: definePlugin(() => 1, { depends: ['ledger'] }) });
  return ext;
}

describe('text report', () => {
  it('starts with the start count, start time and a summary that counts what needs attention', async () => {
    const ext = host();
    await ext.start();
    ext.disablePoint('shop', 'refund');
    ext.callPluginsSync('shop', 'checkout');
    const lines = renderReport(ext.report(), { color: false }).split('\n');
    expect(lines[0]).toMatch(/^extpoint report {2}start count 1, last start \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(lines[1]).toBe('2 points, 4 plugins, 1 failing, 2 disabled or held, 0 load errors');
  });

  it('lists each point with the plugins serving it indented beneath, and points nobody declared', () => {
    const ext = host();
    ext.callPluginsSync('shop', 'checkout');
    ext.callPluginsSync('shop', 'checkout');
    const text = renderReport(ext.report(), { color: false });
    const table = text.slice(text.indexOf('points, each with the plugins serving it'));
    const rows = table.split('\n').slice(2, 10);
    expect(rows[0]).toMatch(/^ {2}shipping_dispatch_Extension\s+shipping\s+local\s+not declared$/);
    expect(rows[1]).toMatch(/^ {4}shipping_dispatch_Plugin\s+mailer\s+local\s+enable\s+0\s+0$/);
    expect(rows[2]).toMatch(/^ {2}shop_checkout_Extension\s+shop\s+local\s+enable\s+2\s+2$/);
    expect(rows[3]).toMatch(/^ {4}shop_checkout_Plugin\s+audit\s+local\s+enable\s+0\s+2$/);
    expect(rows[4]).toMatch(/^ {4}shop_checkout_Plugin\s+ledgerUser\s+local\s+held by ledger\s+0\s+0$/);
    expect(rows[5]).toMatch(/^ {4}shop_checkout_Plugin\s+shop\s+local\s+enable\s+2\s+0$/);
    expect(rows[6]).toMatch(/^ {2}shop_refund_Extension\s+shop\s+local\s+enable\s+0\s+0$/);
    expect(rows[7]).toMatch(/^ {4}\(no plugins\)$/);
    expect(text).toMatch(/last exit of each failing plugin\n {2}audit shop_checkout_Plugin #2 at \S+: Error: audit store unreachable/);
  });

  it('shows a profile column once a point is profiled', () => {
    const ext = host();
    ext.profile('shop', 'checkout');
    ext.callPluginsSync('shop', 'checkout');
    const text = renderReport(ext.report(), { color: false });
    expect(text).toMatch(/point \/ plugin\s+module\s+node\s+flag\s+ok\s+exit\s+profile/);
    expect(text).toMatch(/shop_checkout_Plugin\s+shop\s+local\s+enable\s+1\s+0\s+1 calls, avg \d+\.\d{3} ms, max \d+\.\d{3} ms/);
  });

  it('colours only when asked: failing red, disabled or held yellow', () => {
    const ext = host();
    ext.callPluginsSync('shop', 'checkout');
    const plain = renderReport(ext.report(), { color: false });
    const coloured = renderReport(ext.report(), { color: true });
    expect(plain).not.toContain('\u001b[');
    expect(coloured).toMatch(/ {2}\u001b\[31m {2}shop_checkout_Plugin\s+audit/);
    expect(coloured).toMatch(/ {2}\u001b\[33m {2}shop_checkout_Plugin\s+ledgerUser/);
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain);
    expect(inspect(ext.report(), { colors: false })).toBe(plain);
    expect(String(ext.report())).toBe(plain);
  });
});
