/**
 * Case 7: counters stay exact under load. Several async callers call one point concurrently (series,
 * parallel, through a handle, and sync calls that meet async plugins) while one plugin module is replaced
 * again and again. Every call runs every plugin once, so afterwards each plugin's ok + exit in report()
 * must equal the calls made, and must match what the callers saw in the results, to the unit.
 * The figure is the throughput of the whole mix; the checks are what matters.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { createExtension } from '../../dist/index.js';
import { tempFolder, removeFolder, hotSource } from '../lib/files.js';
import { atomicWrite } from '../lib/replace.js';

export const id = '7';
export const title = 'Counters exact under load, while a plugin reloads';
export const description =
  '8 concurrent async callers share the calls; module "hot" is replaced on every turn of the event loop ' +
  '(by registerModule), or its file in a watched folder is atomically rewritten as soon as the last version is live';
export const unit = 'calls/ms';

export const variants = [
  { key: 'registered', label: 'reloads by registerModule' },
  { key: 'folder', label: 'reloads of a watched file' },
];

const CALLERS = 8;
const MODULES = ['hot', 'steady', 'slow', 'flaky'];

/** The same plugin modules for every variant; `hot` is versioned so a reload is a new function. */
function pluginModules() {
  let flakyCalls = 0;
  return {
    steady: { host_p_Plugin: (a) => a.n + 1 },
    slow: { host_p_Plugin: async (a) => (await null, a.n + 2) },
    // Throws on every third call, and rejects on every third but one.
    flaky: {
      host_p_Plugin: (a) => {
        const k = ++flakyCalls % 3;
        if (k === 0) throw new Error('flaky throws');
        if (k === 1) return Promise.reject(new Error('flaky rejects'));
        return a.n;
      },
    },
  };
}

function hotVersion(v) {
  return { host_p_Plugin: new Function(`return function hot(a) { return a.n * ${v}; };`)() };
}

export async function run(key, opts) {
  const totalCalls = opts.quick ? 20_000 : 400_000;
  const viaFolder = key === 'folder';
  const dir = viaFolder ? tempFolder('counters') : null;
  const hotFile = viaFolder ? path.join(dir, 'hot.cjs') : null;
  if (viaFolder) writeFileSync(hotFile, hotSource('cjs', 1));
  const ext = createExtension(viaFolder ? { scanLoaded: false, pluginDirs: [dir], watch: true } : { scanLoaded: false });
  ext.registerModule('host', { host_p_Extension: (a) => ext.callPlugins('host', 'p', a) });
  for (const [name, exports] of Object.entries(pluginModules())) ext.registerModule(name, exports);
  let version = 1;
  let reloads = 0;
  ext.on('reload', (e) => e.module === 'hot' && reloads++);
  if (viaFolder) {
    await ext.start();
    const hot = ext.report().plugins.find((r) => r.module === 'hot');
    if (hot === undefined) throw new Error(`the watched plugin file did not load: ${JSON.stringify(ext.report().status.loadErrors)}`);
  }
  else ext.registerModule('hot', hotVersion(version));

  // What the callers saw, per plugin module.
  const seen = Object.fromEntries(MODULES.map((m) => [m, { ok: 0, exit: 0 }]));
  let short = 0;
  const tally = (results) => {
    if (results.length !== MODULES.length) short++;
    for (const r of results) seen[r.info.module][r.state === 'ok' ? 'ok' : 'exit']++;
  };

  const point = ext.point('host', 'p');
  let made = 0;
  let running = true;
  const caller = async (c) => {
    const args = { n: c };
    for (let i = 0; made < totalCalls || (reloads < minReloads && !gaveUp); i++) {
      made++;
      switch ((i + c) % 4) {
        case 0:
          tally(await ext.callPlugins('host', 'p', args));
          break;
        case 1:
          tally(await ext.callPlugins('host', 'p', args, { parallel: true }));
          break;
        case 2:
          tally(await point.call(args, { timeoutMs: 60_000 }));
          break;
        default:
          tally(ext.callPluginsSync('host', 'p', args));
          await null;
      }
      // Give timers and I/O (the reloader, a watcher) their turns now and then.
      if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  // The watcher hands a file on once it has been quiet for a while, so a file rewritten every few ms would
  // never reload: write a version, wait until it is live, write the next.
  const minReloads = viaFolder ? (opts.quick ? 3 : 20) : 0;
  let gaveUp = false;
  const deadline = Date.now() + 60_000;
  const reloader = async () => {
    while (running) {
      if (viaFolder) {
        const before = reloads;
        atomicWrite(hotFile, hotSource('cjs', ++version));
        while (reloads === before && running && !gaveUp) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          gaveUp = Date.now() > deadline;
        }
      } else {
        ext.registerModule('hot', hotVersion(++version));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };

  const t0 = process.hrtime.bigint();
  const reloading = reloader();
  await Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  running = false;
  await reloading;
  if (viaFolder) {
    await ext.stop();
    removeFolder(dir);
  }
  // Let rejections of plugins that sync calls met settle before reading the counters.
  await new Promise((resolve) => setTimeout(resolve, 10));

  const report = ext.report();
  const checks = [];
  let exact = true;
  const detail = [];
  for (const m of MODULES) {
    const row = report.plugins.find((r) => r.module === m && r.fn === 'host_p_Plugin');
    const ok = row?.ok ?? 0;
    const exit = row?.exit ?? 0;
    const good = ok + exit === made && ok === seen[m].ok && exit === seen[m].exit;
    exact &&= good;
    detail.push(`${m} ok ${ok} + exit ${exit} = ${ok + exit}${good ? '' : ` (callers saw ok ${seen[m].ok}, exit ${seen[m].exit})`}`);
  }
  const pointRow = report.points.find((r) => r.module === 'host' && r.fn === 'host_p_Extension');
  const pointGood = pointRow !== undefined && pointRow.ok + pointRow.exit === made * MODULES.length;
  checks.push({
    name: 'each plugin: report ok + exit = calls made = results seen',
    passed: exact,
    detail: `${made} calls, ${reloads} reloads; ${detail.join('; ')}`,
  });
  checks.push({
    name: 'point: report ok + exit = calls made x plugins',
    passed: pointGood,
    detail: `${pointRow?.ok} + ${pointRow?.exit} = ${(pointRow?.ok ?? 0) + (pointRow?.exit ?? 0)}, expected ${made * MODULES.length}`,
  });
  checks.push({
    name: 'every call ran all 4 plugins (a reload never left a gap)',
    passed: short === 0,
    detail: `${short} of ${made} calls returned fewer than ${MODULES.length} results`,
  });
  checks.push({ name: 'the plugin really reloaded during the calls', passed: reloads > 1, detail: `${reloads} reloads` });
  return { value: made / ms, extra: { calls: made, reloads, ms }, checks };
}
