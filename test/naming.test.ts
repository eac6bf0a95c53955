import { describe, expect, it } from 'vitest';
import { parseExportName, extensionName, pluginName } from '../src/index.js';
import { isModuleName, assertCallNames } from '../src/core/naming.js';

describe('naming', () => {
  it('parses a plugin name with an underscored module', () => {
    expect(parseExportName('plugin_demo_point1_Plugin')).toEqual({
      ok: true,
      name: { kind: 'plugin', module: 'plugin_demo', point: 'point1' },
    });
  });

  it('parses an extension name', () => {
    expect(parseExportName('billing_checkout_Extension')).toEqual({
      ok: true,
      name: { kind: 'extension', module: 'billing', point: 'checkout' },
    });
  });

  it('ignores names without a convention suffix, including substrings of one', () => {
    expect(parseExportName('helper')).toBeNull();
    expect(parseExportName('a_b_PluginX')).toBeNull();
    expect(parseExportName('a_b_Plugins')).toBeNull();
    expect(parseExportName('a_b_Extensions')).toBeNull();
    expect(parseExportName('Plugin')).toBeNull();
  });

  it('never lets two (module, point) pairs share a name: a_b + c and a + b_c differ', () => {
    const first = parseExportName(pluginName('a_b', 'c'));
    expect(first).toEqual({ ok: true, name: { kind: 'plugin', module: 'a_b', point: 'c' } });
    // the origin's collision: module `a`, point `b_c` is not a valid point at all
    expect(pluginName('a', 'b_c')).toBe('a_b_c_Plugin');
    expect(() => assertCallNames('a', 'b_c')).toThrow(TypeError);
  });

  it.each([
    ['_Plugin', 'does not name a module and a point'],
    ['point_Plugin', 'does not name a module and a point'],
    ['_point_Plugin', 'does not name a module and a point'],
    ['mod__Plugin', 'invalid point name ""'],
    ['mod_po-int_Plugin', 'invalid point name "po-int"'],
    ['my-mod_point_Extension', 'invalid module name "my-mod"'],
  ])('reports %s as a bad convention name', (name, message) => {
    const reading = parseExportName(name);
    expect(reading).not.toBeNull();
    expect(reading!.ok).toBe(false);
    if (reading && !reading.ok) expect(reading.error).toContain(message);
  });

  it('formats names', () => {
    expect(extensionName('plugin_demo', 'point1')).toBe('plugin_demo_point1_Extension');
    expect(pluginName('plugin_demo', 'point1')).toBe('plugin_demo_point1_Plugin');
  });

  it('accepts file-like module names of 1 to 255 characters', () => {
    expect(isModuleName('my-plugin.v2')).toBe(true);
    expect(isModuleName('$x_y')).toBe(true);
    expect(isModuleName('a'.repeat(255))).toBe(true);
    expect(isModuleName('a'.repeat(256))).toBe(false);
    expect(isModuleName('')).toBe(false);
    expect(isModuleName('has space')).toBe(false);
    expect(isModuleName('a/b')).toBe(false);
    expect(isModuleName(42)).toBe(false);
  });

  it('names the bad value in call-name errors', () => {
    expect(() => assertCallNames('bad-name', 'p')).toThrow(/invalid module name "bad-name"/);
    expect(() => assertCallNames('m', 'p.q')).toThrow(/invalid point name "p.q"/);
    expect(() => assertCallNames(undefined, 'p')).toThrow(/invalid module name undefined/);
  });
});
