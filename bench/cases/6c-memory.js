/**
 * Case 6c: does reloading free the old version? A plugin file that allocates 1 MB on the JS heap when it
 * loads (and keeps it) is replaced and reloaded 1,000 times, CommonJS and ES module; the figure is the
 * heap after a full GC at the end minus the heap after a full GC once warmed up. The anchors are what a
 * host does without extpoint: `delete require.cache[file]` and require again, and `import()` with a new
 * query each time; they keep every version, so they are run for 100 reloads only.
 * Children of this case run with --expose-gc.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createExtension } from '../../dist/index.js';
import { tempFolder, removeFolder, hotSource } from '../lib/files.js';
import { atomicWrite } from '../lib/replace.js';
import { ARGS } from '../lib/fixtures.js';

export const id = '6c';
export const title = 'Plugin folder: heap growth over reloads';
export const description = 'heap after GC, grown over N reloads of a plugin that allocates 1 MB when it loads';
export const unit = 'MB';

const MB = 1;
const WARMUP = 10;
const reloads = (quick) => (quick ? 20 : 1000);
const anchorReloads = (quick) => (quick ? 10 : 100);
const GC = ['--expose-gc'];

export function variants({ quick }) {
  const n = reloads(quick).toLocaleString('en-US');
  const a = anchorReloads(quick);
  return [
    { key: 'cjs', label: `extpoint, CommonJS, ${n} reloads`, nodeArgs: GC },
    { key: 'esm', label: `extpoint, ES module, ${n} reloads`, nodeArgs: GC },
    { key: 'naiveCjs', label: `delete require.cache, ${a} reloads`, nodeArgs: GC },
    { key: 'naiveEsm', label: `import() ?v=N, ${a} reloads`, nodeArgs: GC },
  ];
}

export function goals({ quick }) {
  const n = reloads(quick).toLocaleString('en-US');
  return [
    { text: `CommonJS: ${n} reloads grow the heap by under 5 MB`, variant: 'cjs', op: '<', limit: 5, unit: 'MB' },
    { text: `ES module: ${n} reloads grow the heap by under 5 MB`, variant: 'esm', op: '<', limit: 5, unit: 'MB' },
  ];
}

/** 1,000 reloads make a distribution of their own; one process per contestant. */
export const runs = () => 1;

async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Reloads through extpoint: replace the file, rescan, and check the new version answers. */
async function viaExtpoint(format, count) {
  const dir = tempFolder(`memory-${format}`);
  const file = path.join(dir, format === 'esm' ? 'hot.mjs' : 'hot.cjs');
  writeFileSync(file, hotSource(format, 0, MB));
  const ext = createExtension({ scanLoaded: false, pluginDirs: [dir], watch: false });
  try {
    await ext.start();
    let before = 0;
    for (let v = 1; v <= WARMUP + count; v++) {
      if (v === WARMUP + 1) before = await settledHeap();
      atomicWrite(file, hotSource(format, v, MB));
      await ext.rescan();
      const got = ext.callPluginsSync('host', 'p', ARGS)[0]?.data;
      if (got !== v) {
        throw new Error(`after reload ${v} the plugin answered ${got}: ${JSON.stringify(ext.report().status.loadErrors.slice(-2))}`);
      }
    }
    return { before, after: await settledHeap() };
  } finally {
    await ext.stop();
    removeFolder(dir);
  }
}

/** What a host without extpoint would do; keeps every version. */
async function naive(format, count) {
  const dir = tempFolder(`naive-${format}`);
  const file = path.join(dir, format === 'esm' ? 'hot.mjs' : 'hot.cjs');
  const require = createRequire(path.join(dir, 'host.cjs'));
  try {
    let before = 0;
    for (let v = 0; v <= WARMUP + count; v++) {
      if (v === WARMUP + 1) before = await settledHeap();
      writeFileSync(file, hotSource(format, v, MB));
      let mod;
      if (format === 'esm') mod = await import(`${pathToFileURL(file).href}?v=${v}`);
      else {
        delete require.cache[file];
        mod = require(file);
      }
      if (mod.host_p_Plugin(ARGS) !== v) throw new Error(`naive ${format} reload ${v} did not answer`);
    }
    return { before, after: await settledHeap() };
  } finally {
    removeFolder(dir);
  }
}

export async function run(key, { quick }) {
  if (typeof globalThis.gc !== 'function') throw new Error('case 6c needs node --expose-gc');
  const count = key.startsWith('naive') ? anchorReloads(quick) : reloads(quick);
  const format = key.toLowerCase().endsWith('esm') ? 'esm' : 'cjs';
  const { before, after } = key.startsWith('naive') ? await naive(format, count) : await viaExtpoint(format, count);
  const growth = (after - before) / 2 ** 20;
  return {
    value: growth,
    extra: { reloads: count, heapBeforeMB: before / 2 ** 20, heapAfterMB: after / 2 ** 20, perReloadKB: (growth * 1024) / count },
  };
}
