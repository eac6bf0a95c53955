/**
 * Reloading ES modules inside a worker node does not leak: the folder code a worker runs converts an ES
 * module file to a function of its own, as in-process, so an old version is garbage once replaced. With
 * real worker threads and the real watcher: 40 reloads of a plugin that holds 4 MB each, then the
 * worker's own heap (measured by a plugin, after a full GC) must not have kept them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, type Extension } from '../src/index.js';

let base: string;
let sandbox: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-nodes-reload-'));
  sandbox = join(base, 'sandbox');
  await mkdir(sandbox);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

/** Version `v` of the hot plugin: an ES module holding 4 MB of numbers. */
const hot = (v: number) =>
  `const big = new Array(524288);\nfor (let i = 0; i < big.length; i++) big[i] = i + 0.5;\n` +
  `export function app_version_Plugin() { return big[0] >= 0 ? ${v} : -1; }\n`;

/** A plugin that answers the worker's heap in use after a full GC (gc exposed in a context of its own). */
const HEAP = `import v8 from 'node:v8';\nimport vm from 'node:vm';\n` +
  `v8.setFlagsFromString('--expose-gc');\nconst gc = vm.runInNewContext('gc');\n` +
  `export function app_heap_Plugin() { gc(); gc(); return process.memoryUsage().heapUsed; }\n`;

describe('ES module reloads in a worker node', () => {
  it('do not keep old versions alive', async () => {
    const file = join(sandbox, 'hot.mjs');
    const write = async (v: number) => {
      await writeFile(`${file}.tmp`, hot(v));
      await rename(`${file}.tmp`, file);
    };
    await write(0);
    await writeFile(join(sandbox, 'heap.mjs'), HEAP);
    ext = createExtension({ scanLoaded: false, watch: true, pluginDirs: [{ path: sandbox, node: 'sandbox', isolation: 'worker' }] });
    const e = ext;
    await e.start();
    const reload = async (v: number) => {
      const reloaded = new Promise((resolve) => e.once('reload', resolve));
      await write(v);
      await reloaded;
      const [r] = await e.callPlugins('app', 'version');
      expect(r).toMatchObject({ state: 'ok', data: v, info: { node: 'sandbox' } });
    };
    for (let v = 1; v <= 5; v++) await reload(v);
    const heap = async () => (await e.callPlugins('app', 'heap'))[0]!.data as number;
    const h0 = await heap();
    for (let v = 6; v <= 45; v++) await reload(v);
    const growth = (await heap()) - h0;
    // 40 versions kept would be 160 MB
    expect(growth).toBeLessThan(40 * 1024 * 1024);
    expect(e.report().nodes.find((n) => n.node === 'sandbox')).toMatchObject({ status: 'up', restarts: 0 });
  }, 120_000);
});
