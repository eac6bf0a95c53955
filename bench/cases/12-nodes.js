/**
 * Case 12: an awaited call of a point whose 10 plugins run on a worker node (one crossing per call,
 * whether the plugins are awaited in turn or in parallel), against raw MessagePort round trips to a
 * worker running the same 10 functions: one round trip carrying all 10 (the floor), 10 round trips one
 * after another (what each plugin crossing on its own would cost), and the same one task through
 * piscina (one thread, tasks run by a function that calls the 10). Also: 64 parallel calls in flight against 64 raw round
 * trips in flight (per call), and the time from a worker node's creation to its first answer, and from a
 * crash to the next answer (which includes the supervisor's first backoff, 100 ms). 64 calls made in
 * one turn cross in two messages (the first at once, the rest at the end of the turn).
 */
import { Worker } from 'node:worker_threads';
import { createExtension } from '../../dist/index.js';
import { measure } from '../lib/measure.js';
import { ARGS } from '../lib/fixtures.js';
import { tempFolder, removeFolder, writePluginFiles } from '../lib/files.js';
import { rawSync } from '../lib/sync-floor.js';

const PLUGINS = 10;

export const id = '12';
export const title = 'Worker node, 10 plugins';
export const description = 'one awaited call of a point whose 10 plugins run in a worker thread';
export const unit = 'ns/call';

export const variants = [
  { key: 'workerNode', label: 'extpoint callPlugins, worker node', ratioTo: 'portBatch' },
  { key: 'workerNodeParallel', label: 'extpoint callPlugins parallel, worker node', ratioTo: 'portBatch' },
  { key: 'portBatch', label: 'raw MessagePort: 1 round trip, 10 plugins', ratioTo: 'portBatch' },
  { key: 'portEach', label: 'raw MessagePort: 10 round trips', ratioTo: 'portBatch' },
  { key: 'piscina', label: 'piscina 5 (1 thread): 1 task, 10 plugins', ratioTo: 'portBatch' },
  { key: 'workerNode64', label: 'extpoint, 64 parallel calls in flight', unit: 'ns/call', ratioTo: 'port64' },
  { key: 'port64', label: 'raw MessagePort, 64 round trips in flight', unit: 'ns/call', ratioTo: 'port64' },
  { key: 'workerNodeSync', label: 'extpoint callPluginsSync, worker node (one crossing)', ratioTo: 'atomicsBatch' },
  { key: 'atomicsBatch', label: 'raw Atomics.wait + receiveMessageOnPort: 1 round trip, 10 plugins', ratioTo: 'atomicsBatch' },
  { key: 'startToFirstCall', label: 'worker node: start to first answer', unit: 'ms', ratioTo: 'startToFirstCall' },
  { key: 'restartAfterCrash', label: 'worker node: crash to next answer', unit: 'ms', ratioTo: 'restartAfterCrash' },
];

export const goals = [
  { text: 'worker node call (one crossing) within 1.3x of one raw MessagePort round trip', variant: 'workerNode', against: 'portBatch', op: '<=', limit: 1.3 },
  { text: 'worker node call (parallel) within 1.3x of one raw MessagePort round trip', variant: 'workerNodeParallel', against: 'portBatch', op: '<=', limit: 1.3 },
  { text: 'worker node call faster than the same work through piscina', variant: 'workerNode', against: 'piscina', op: '<', limit: 1 },
  { text: 'worker node sync call within 1.5x of one raw Atomics.wait round trip', variant: 'workerNodeSync', against: 'atomicsBatch', op: '<=', limit: 1.5 },
];

/** The worker of the raw floors: runs the same 10 functions as the plugin files. */
const FLOOR_WORKER = `
const { parentPort } = require('node:worker_threads');
const fns = Array.from({ length: ${PLUGINS} }, (_, i) => new Function('a', 'return a.n + ' + i));
parentPort.on('message', (m) => {
  if (m.one !== undefined) parentPort.postMessage({ id: m.id, data: fns[m.one](m.args) });
  else parentPort.postMessage({ id: m.id, data: fns.map((f) => f(m.args)) });
});
`;

/** The piscina task file: the same 10 functions, run on one task's arguments. */
const PISCINA_TASK = `
'use strict';
const fns = Array.from({ length: ${PLUGINS} }, (_, i) => new Function('a', 'return a.n + ' + i));
module.exports = (args) => fns.map((f) => f(args));
`;

function rawPort() {
  const worker = new Worker(FLOOR_WORKER, { eval: true });
  const waiting = new Map();
  let nextId = 0;
  worker.on('message', (m) => {
    const done = waiting.get(m.id);
    waiting.delete(m.id);
    done(m.data);
  });
  const ask = (message) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      worker.postMessage({ id, ...message });
    });
  return { worker, ask };
}

const IN_FLIGHT = 64;

/** Milliseconds of `op` (awaited), median of `times` runs. */
async function timeMs(op, times) {
  const ms = [];
  for (let i = 0; i < times; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return ms[ms.length >> 1];
}

/** Start, or crash-and-restart, timings: each run makes its own extension on a fresh folder. */
async function lifeCycle(key, opts) {
  const dir = tempFolder('nodes-life');
  writePluginFiles(dir, PLUGINS);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/crash.js`, `'use strict';\nexports.host_crash_Plugin = function () { process.exit(1); };\n`);
  const times = opts.quick ? 2 : 10;
  const make = () => createExtension({ scanLoaded: false, watch: false, pluginDirs: [{ path: dir, node: 'bench', isolation: 'worker', restart: { intensity: 1000, periodMs: 1000 } }] });
  try {
    if (key === 'startToFirstCall') {
      return await timeMs(async () => {
        const ext = make();
        await ext.start();
        await ext.callPlugins('host', 'p', ARGS);
        await ext.stop();
      }, times);
    }
    const ext = make();
    await ext.start();
    try {
      // The policy's first backoff (100 ms) is part of the figure; the restart by hand that makes every
      // run back off alike (it forgets the restart) is not.
      const ms = [];
      for (let i = 0; i < times; i++) {
        const t0 = process.hrtime.bigint();
        const up = new Promise((resolve) => ext.once('nodeUp', resolve));
        await ext.callPlugins('host', 'crash');
        await up;
        const [r] = await ext.callPlugins('host', 'p', ARGS);
        if (r.state !== 'ok') throw new Error('no answer after the restart');
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
        await ext.restartNode('bench');
      }
      ms.sort((x, y) => x - y);
      return ms[ms.length >> 1];
    } finally {
      await ext.stop();
    }
  } finally {
    removeFolder(dir);
  }
}

export async function run(key, opts) {
  if (key === 'startToFirstCall' || key === 'restartAfterCrash') return { value: await lifeCycle(key, opts) };
  if (key === 'workerNodeSync' || key === 'atomicsBatch') return runSync(key, opts);
  let dir = null;
  let stop = async () => {};
  let call;
  let perOp = 1;
  if (key === 'workerNode64' || key === 'port64') perOp = IN_FLIGHT;
  if (key === 'workerNode' || key === 'workerNodeParallel' || key === 'workerNode64') {
    dir = tempFolder('nodes');
    writePluginFiles(dir, PLUGINS);
    const ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: [{ path: dir, node: 'bench', isolation: 'worker' }] });
    await ext.start();
    stop = () => ext.stop();
    // With parallel the 10 plugins' calls leave in one turn and cross as one message.
    const options = key === 'workerNode' ? undefined : { parallel: true };
    const one = async (args) => (await ext.callPlugins('host', 'p', args, options)).map((r) => r.data);
    call = key === 'workerNode64' ? async (args) => (await Promise.all(Array.from({ length: IN_FLIGHT }, () => one(args))))[0] : one;
  } else if (key === 'piscina') {
    const { Piscina } = await import('piscina');
    const { writeFileSync } = await import('node:fs');
    dir = tempFolder('nodes-piscina');
    writeFileSync(`${dir}/task.cjs`, PISCINA_TASK);
    const pool = new Piscina({ filename: `${dir}/task.cjs`, minThreads: 1, maxThreads: 1 });
    stop = () => pool.destroy();
    call = (args) => pool.run(args);
  } else if (key === 'portBatch' || key === 'portEach' || key === 'port64') {
    const { worker, ask } = rawPort();
    stop = () => worker.terminate();
    call =
      key === 'portBatch'
        ? (args) => ask({ args })
        : key === 'port64'
          ? async (args) => (await Promise.all(Array.from({ length: IN_FLIGHT }, () => ask({ args }))))[0]
          : async (args) => {
            const out = [];
            for (let i = 0; i < PLUGINS; i++) out.push(await ask({ one: i, args }));
            return out;
          };
  } else throw new Error(`case 9 has no contestant ${key}`);
  try {
    const first = await call(ARGS);
    const expected = Array.from({ length: PLUGINS }, (_, i) => ARGS.n + i);
    if (JSON.stringify(first) !== JSON.stringify(expected)) throw new Error(`${key} answered ${JSON.stringify(first)}`);
    const m = await measure(() => call(ARGS), { ...opts, async: true });
    return { value: m.nsPerOp / perOp, extra: { samples: m.samples.map((x) => x / perOp), batch: m.batch } };
  } finally {
    await stop();
    removeFolder(dir);
  }
}

/** The sync contestants: `callPluginsSync` into the worker node against the raw Atomics.wait floor. */
async function runSync(key, opts) {
  let dir = null;
  let call;
  let stop;
  if (key === 'workerNodeSync') {
    dir = tempFolder('nodes-sync');
    writePluginFiles(dir, PLUGINS);
    const ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: [{ path: dir, node: 'bench', isolation: 'worker' }] });
    await ext.start();
    stop = () => ext.stop();
    call = (args) => ext.callPluginsSync('host', 'p', args).map((r) => r.data);
  } else {
    const raw = await rawSync(PLUGINS);
    stop = raw.stop;
    call = raw.ask;
  }
  try {
    const first = call(ARGS);
    const expected = Array.from({ length: PLUGINS }, (_, i) => ARGS.n + i);
    if (JSON.stringify(first) !== JSON.stringify(expected)) throw new Error(`${key} answered ${JSON.stringify(first)}`);
    const m = await measure(() => call(ARGS), opts);
    return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
  } finally {
    await stop();
    removeFolder(dir);
  }
}
