/**
 * Case 8: durable operator state. A flag change with a state file is one atomic, fsynced write of the
 * whole document; calls never touch the file, so a host with a state file calls as fast as one without
 * (side by side here); and a periodic flush of counters for 10,000 plugins is timed, with its size.
 */
import path from 'node:path';
import { statSync } from 'node:fs';
import { createExtension } from '../../dist/index.js';
import { measure, median, percentile } from '../lib/measure.js';
import { ARGS, syncPlugins, pluginModule } from '../lib/fixtures.js';
import { tempFolder, removeFolder } from '../lib/files.js';

export const id = '8';
export const title = 'Durable operator state';
export const description = 'a state file: flag changes written through, calls untouched, counter flushes';
export const unit = 'ns/call';

export function variants({ quick }) {
  return [
    { key: 'calls', label: 'callPluginsSync, 10 plugins, no state file' },
    { key: 'callsState', label: 'callPluginsSync, 10 plugins, with a state file', ratioTo: 'calls' },
    { key: 'flag', label: `flag change written through, median of ${quick ? 20 : 200}`, unit: 'µs' },
    { key: 'flagP99', label: 'flag change written through, 99th percentile', unit: 'µs', from: 'flag', field: 'p99' },
    { key: 'flush', label: `flush of ${quick ? '1,000' : '10,000'} plugins' counters`, unit: 'ms' },
    { key: 'flushKb', label: 'size of that state file', unit: 'KB', from: 'flush', field: 'kb' },
  ];
}


export const goals = [
  { text: 'calls with a state file within 1.1x of calls without', variant: 'callsState', against: 'calls', op: '<=', limit: 1.1 },
];

function withPlugins(ext, count) {
  const fns = syncPlugins(count);
  ext.registerModule('host', { host_p_Extension: () => {} });
  fns.forEach((fn, i) => ext.registerModule(pluginModule(i), { host_p_Plugin: fn }));
}

export async function run(key, { quick }) {
  const dir = tempFolder('state');
  const stateFile = path.join(dir, 'state.json');
  try {
    if (key === 'calls' || key === 'callsState') {
      const ext = createExtension(key === 'calls' ? { scanLoaded: false } : { scanLoaded: false, stateFile, stateFlushMs: 1000 });
      withPlugins(ext, 10);
      await ext.start();
      const { nsPerOp } = await measure(() => ext.callPluginsSync('host', 'p', ARGS));
      await ext.stop();
      const ok = ext.report().plugins.every((p) => p.ok > 0 && p.exit === 0);
      return { value: nsPerOp, checks: [{ name: 'every plugin ran and was counted', passed: ok, detail: '' }] };
    }
    if (key === 'flag') {
      const ext = createExtension({ scanLoaded: false, stateFile });
      withPlugins(ext, 10);
      await ext.start();
      const times = [];
      for (let i = 0; i < (quick ? 20 : 200); i++) {
        const t0 = process.hrtime.bigint();
        if (i % 2 === 0) ext.disablePlugin(pluginModule(i % 10), 'host', 'p');
        else ext.enablePlugin(pluginModule((i - 1) % 10), 'host', 'p');
        times.push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
      await ext.stop();
      return { value: median(times), extra: { p99: percentile(times, 99) } };
    }
    // flush
    const count = quick ? 1_000 : 10_000;
    const ext = createExtension({ scanLoaded: false, stateFile, stateFlushMs: 600_000 });
    withPlugins(ext, count);
    await ext.start();
    ext.callPluginsSync('host', 'p', ARGS);
    const t0 = process.hrtime.bigint();
    await ext.stop();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { value: ms, extra: { kb: statSync(stateFile).size / 1024 } };
  } finally {
    removeFolder(dir);
  }
}

/** Flag latencies and the flush come from one process each. */
export const runs = ({ quick }) => (quick ? 1 : 5);
