/**
 * Case 6b: reload latency. A watched plugin folder; the plugin file `hot` is replaced atomically (written
 * to a temp name in the same folder, then renamed over it) 50 times, and each time the clock runs from
 * just before the write to the first call that answers with the new version. CommonJS and ES module
 * files alike (an ES module file is converted before it is evaluated, which costs a little more).
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { createExtension } from '../../dist/index.js';
import { tempFolder, removeFolder, hotSource } from '../lib/files.js';
import { atomicWrite, waitUntil } from '../lib/replace.js';
import { median, percentile } from '../lib/measure.js';
import { ARGS } from '../lib/fixtures.js';

export const id = '6b';
export const title = 'Plugin folder: reload latency';
export const description = 'atomic replace of a watched plugin file until the new version answers calls';
export const unit = 'ms';

const reloads = (quick) => (quick ? 5 : 50);

export function variants({ quick }) {
  const n = reloads(quick);
  return [
    { key: 'cjs', label: `CommonJS, median of ${n} reloads` },
    { key: 'cjsP95', label: `CommonJS, 95th percentile`, from: 'cjs', field: 'p95' },
    { key: 'esm', label: `ES module, median of ${n} reloads` },
    { key: 'esmP95', label: `ES module, 95th percentile`, from: 'esm', field: 'p95' },
  ];
}

export const goals = [
  { text: 'CommonJS reload: median under 100 ms', variant: 'cjs', op: '<', limit: 100, unit: 'ms' },
  { text: 'ES module reload: median under 100 ms', variant: 'esm', op: '<', limit: 100, unit: 'ms' },
];

/** One process of 50 reloads is the distribution; no need to repeat it. */
export const runs = () => 1;

export async function run(key, { quick }) {
  const format = key === 'esm' ? 'esm' : 'cjs';
  const dir = tempFolder(`reload-${format}`);
  const file = path.join(dir, format === 'esm' ? 'hot.mjs' : 'hot.cjs');
  writeFileSync(file, hotSource(format, 0));
  const ext = createExtension({ scanLoaded: false, pluginDirs: [dir], watch: true });
  const answer = () => ext.callPluginsSync('host', 'p', ARGS)[0]?.data;
  try {
    await ext.start();
    if (answer() !== 0) throw new Error(`the first version did not load: ${JSON.stringify(ext.report().status.loadErrors)}`);
    const times = [];
    const total = reloads(quick) + 1;
    for (let v = 1; v <= total; v++) {
      const t0 = process.hrtime.bigint();
      atomicWrite(file, hotSource(format, v));
      const ms = await waitUntil(() => answer() === v, { t0, emitter: ext, events: ['reload', 'load'] });
      if (v > 1) times.push(ms); // the first reload warms up the loader and is not counted
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const errors = ext.report().status.loadErrors;
    if (errors.length > 0) throw new Error(`reloads gave load errors: ${JSON.stringify(errors.slice(0, 3))}`);
    return {
      value: median(times),
      extra: { p95: percentile(times, 95), max: Math.max(...times), min: Math.min(...times), reloads: times.length },
    };
  } finally {
    await ext.stop();
    removeFolder(dir);
  }
}
