/**
 * The floor of case 12's sync contestants: a raw synchronous round trip to a worker running the same
 * functions as the plugin files, built the way a worker node's sync channel is: a MessageChannel of its
 * own, the host posting the arguments and blocking in `Atomics.wait` until the worker, having posted the
 * results, raises a shared word and calls `Atomics.notify`; the host then takes the answer with
 * `receiveMessageOnPort`. One round trip carries all the functions' results.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';

const WORKER = (count) => `
const { workerData } = require('node:worker_threads');
const { port, state } = workerData;
const word = new Int32Array(state);
const fns = Array.from({ length: ${count} }, (_, i) => new Function('a', 'return a.n + ' + i));
port.on('message', (m) => {
  port.postMessage({ id: m.id, data: fns.map((f) => f(m.args)) });
  Atomics.store(word, 0, 1);
  Atomics.notify(word, 0);
});
`;

/** A worker running `count` functions and a sync `ask(args)` that returns their results. */
export async function rawSync(count) {
  const { port1, port2 } = new MessageChannel();
  const state = new SharedArrayBuffer(4);
  const word = new Int32Array(state);
  const worker = new Worker(WORKER(count), { eval: true, workerData: { port: port2, state }, transferList: [port2] });
  await new Promise((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  let nextId = 0;
  const ask = (args) => {
    const id = nextId++;
    port1.postMessage({ id, args });
    // the worker raises the word, then notifies: a notify late from the last call can wake this wait early
    while (Atomics.compareExchange(word, 0, 1, 0) !== 1) {
      if (Atomics.wait(word, 0, 0, 10_000) === 'timed-out') throw new Error('the raw sync floor did not answer');
    }
    const m = receiveMessageOnPort(port1);
    if (m === undefined || m.message.id !== id) throw new Error('the raw sync floor lost an answer');
    return m.message.data;
  };
  return { ask, stop: () => worker.terminate() };
}
