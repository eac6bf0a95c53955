/**
 * Every options object is checked: an unknown key is a TypeError that names it and the nearest valid key,
 * instead of being silently ignored (`pluginDir` for `pluginDirs`, `timeout` for `timeoutMs`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, definePlugin, type Extension } from '../src/index.js';

function shop(): Extension {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule('billing', {
    billing_checkout_Extension: () => [],
    billing_checkout_Plugin: (x: unknown) => x,
    health: () => 'ok',
  });
  return ext;
}

/** The TypeError `fn` throws or rejects with. */
async function failure(fn: () => unknown): Promise<TypeError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
    return err as TypeError;
  }
  throw new Error('expected a TypeError, got none');
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('createExtension and start options', () => {
  it('names an unknown key and the nearest valid one', async () => {
    const err = await failure(() => createExtension({ pluginDir: ['./plugins'] } as never));
    expect(err.message).toMatch(/unknown option "pluginDir" in createExtension options/);
    expect(err.message).toMatch(/did you mean "pluginDirs"\?/);
  });

  it('knows every documented key, and suggests by closeness whatever the case', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ep-opts-'));
    dirs.push(dir);
    const ext = createExtension({ node: 'n1', scanLoaded: false, pluginDirs: [dir], watch: false, checkPermissions: true });
    await ext.start();
    await ext.stop();
    expect((await failure(() => createExtension({ Node: 'x' } as never))).message).toMatch(/"Node".*did you mean "node"\?/);
    expect((await failure(() => createExtension({ scanloaded: false } as never))).message).toMatch(/did you mean "scanLoaded"\?/);
    expect((await failure(() => createExtension({ checkPermission: false } as never))).message).toMatch(
      /did you mean "checkPermissions"\?/,
    );
  });

  it('lists the valid keys when none is close', async () => {
    const err = await failure(() => createExtension({ colour: true } as never));
    expect(err.message).toMatch(/unknown option "colour"/);
    expect(err.message).not.toMatch(/did you mean/);
    expect(err.message).toMatch(/node, scanLoaded, pluginDirs, watch, checkPermissions/);
  });

  it('checks start options too (a rejection)', async () => {
    const ext = createExtension({ scanLoaded: false });
    const err = await failure(() => ext.start({ pluginDir: ['./plugins'] } as never));
    expect(err.message).toMatch(/unknown option "pluginDir" in start options; did you mean "pluginDirs"\?/);
    // start options take plugin folders only: node is for createExtension.
    const node = await failure(() => ext.start({ node: 'x' } as never));
    expect(node.message).toMatch(/unknown option "node" in start options/);
  });
});

describe('call options', () => {
  it('callPlugins names an unknown key, by name and through a handle, with plugins or without', async () => {
    const ext = shop();
    const err = await failure(() => ext.callPlugins('billing', 'checkout', 1, { timeout: 50 } as never));
    expect(err.message).toMatch(/unknown option "timeout" in call options; did you mean "timeoutMs"\?/);
    await failure(() => ext.point('billing', 'checkout').call(1, { paralel: true } as never)).then((e) =>
      expect(e.message).toMatch(/"paralel".*did you mean "parallel"\?/),
    );
    await failure(() => ext.callPlugins('nobody', 'here', 1, { timeout: 5 } as never));
    // Valid keys still work.
    expect(await ext.callPlugins('billing', 'checkout', 2, { timeoutMs: 100, parallel: true })).toHaveLength(1);
  });

  it('pipe names an unknown key, with its own keys as suggestions', async () => {
    const ext = shop();
    const err = await failure(() => ext.pipe('billing', 'checkout', 1, { returnInputs: true } as never));
    expect(err.message).toMatch(/unknown option "returnInputs" in pipe options; did you mean "returnInput"\?/);
    await failure(() => ext.pipe('nobody', 'here', 1, { privat: {} } as never)).then((e) =>
      expect(e.message).toMatch(/did you mean "private"\?/),
    );
    // parallel is a call option, not a pipe option.
    await failure(() => ext.pipe('billing', 'checkout', 1, { parallel: true } as never));
    expect(await ext.pipe('billing', 'checkout', 3, { private: {}, returnInput: true, timeoutMs: 100 })).toBe(3);
  });

  it('health options are checked', async () => {
    const ext = shop();
    const err = await failure(() => ext.health('billing', 'checkout', { timeout: 10 } as never));
    expect(err.message).toMatch(/unknown option "timeout" in health options; did you mean "timeoutMs"\?/);
    expect((await ext.health('billing', 'checkout', { timeoutMs: 100 })).healthy).toBe(true);
  });

  it('definePlugin options are checked', async () => {
    const err = await failure(() => definePlugin(() => 1, { prority: 5 } as never));
    expect(err.message).toMatch(/unknown option "prority" in definePlugin options; did you mean "priority"\?/);
    expect(definePlugin(() => 1, { priority: 5, depends: ['x'] }).priority).toBe(5);
  });
});
