/**
 * Case 9: an awaited call of a point whose 10 plugins run on a worker node, against raw MessagePort round
 * trips to a worker running the same 10 functions: one round trip carrying all 10 (the floor the issue
 * aims at, with one batched crossing per call) and 10 round trips one after another (what the node does
 * today: each plugin's proxy crosses on its own).
 */
import { Worker } from 'node:worker_threads';
import { createExtension } from '../../dist/index.js';
import { measure } from '../lib/measure.js';
import { ARGS } from '../lib/fixtures.js';
import { tempFolder, removeFolder, writePluginFiles } from '../lib/files.js';

const PLUGINS = 10;

export const id = '9';
export const title = 'Worker node, 10 plugins';
export const description = 'one awaited call of a point whose 10 plugins run in a worker thread';
export const unit = 'ns/call';

export const variants = [
  { key: 'workerNode', label: 'extpoint callPlugins, worker node', ratioTo: 'portBatch' },
  { key: 'workerNodeParallel', label: 'extpoint callPlugins parallel, worker node', ratioTo: 'portBatch' },
  { key: 'portBatch', label: 'raw MessagePort: 1 round trip, 10 plugins', ratioTo: 'portBatch' },
  { key: 'portEach', label: 'raw MessagePort: 10 round trips', ratioTo: 'portBatch' },
];

export const goals = [
  { text: 'worker node call (parallel: one crossing) within 1.3x of one raw MessagePort round trip', variant: 'workerNodeParallel', against: 'portBatch', op: '<=', limit: 1.3 },
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

export async function run(key, opts) {
  let dir = null;
  let stop = async () => {};
  let call;
  if (key === 'workerNode' || key === 'workerNodeParallel') {
    dir = tempFolder('nodes');
    writePluginFiles(dir, PLUGINS);
    const ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: [{ path: dir, node: 'bench', isolation: 'worker' }] });
    await ext.start();
    stop = () => ext.stop();
    // With parallel the 10 plugins' calls leave in one turn and cross as one message.
    const options = key === 'workerNodeParallel' ? { parallel: true } : undefined;
    call = async (args) => (await ext.callPlugins('host', 'p', args, options)).map((r) => r.data);
  } else if (key === 'portBatch' || key === 'portEach') {
    const { worker, ask } = rawPort();
    stop = () => worker.terminate();
    call =
      key === 'portBatch'
        ? (args) => ask({ args })
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
    return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
  } finally {
    await stop();
    removeFolder(dir);
  }
}
