/**
 * The sync channel on its own: the host's end against a real worker serving it with the built
 * `serveSync` (dist/, built by the global setup), and against no worker at all for the cases where no
 * answer comes: a worker that already exited, and a call past its time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { SyncChannel, EXITING, EXIT_CODE, STATE } from '../src/nodes/sync-channel.js';

const SERVER = `
import { workerData } from 'node:worker_threads';
import { serveSync } from ${JSON.stringify(new URL('../dist/nodes/sync-worker.js', import.meta.url).href)};
let calls = 0;
const plugins = {
  'm1 add': (a) => a.n + 1,
  'm2 add': (a) => a.n + 2,
  'm1 count': () => ++calls,
  'm1 exit': () => process.exit(4),
};
serveSync(workerData, (module, fn) => plugins[module + ' ' + fn]);
`;

let worker: Worker | null = null;
afterEach(async () => {
  await worker?.terminate();
  worker = null;
});

async function served(): Promise<SyncChannel> {
  const channel = new SyncChannel('unit');
  worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(SERVER)}`), { workerData: channel.end, transferList: [channel.end.port] });
  await new Promise((resolve, reject) => {
    worker!.once('online', resolve);
    worker!.once('error', reject);
  });
  return channel;
}

describe('sync channel', () => {
  it('runs batches in order with one set of arguments; a list crosses by content, however often it is compiled', async () => {
    const channel = await served();
    const batch = [{ module: 'm1', fn: 'add' }, { module: 'm2', fn: 'add' }];
    expect(channel.call(batch, { n: 1 }, 5000)).toEqual([{ ok: true, data: 2 }, { ok: true, data: 3 }]);
    // the same list again, and an equal list compiled anew, are named by number and still run
    expect(channel.call(batch, { n: 10 }, 5000)).toEqual([{ ok: true, data: 11 }, { ok: true, data: 12 }]);
    expect(channel.call([...batch], { n: 20 }, 5000)).toEqual([{ ok: true, data: 21 }, { ok: true, data: 22 }]);
    const count = [{ module: 'm1', fn: 'count' }];
    for (let i = 1; i <= 500; i++) expect(channel.call(count, null, 5000)).toEqual([{ ok: true, data: i }]);
    const [missing] = channel.call([{ module: 'm9', fn: 'add' }], null, 5000) as { ok: false; error: Error & { code?: string } }[];
    expect(missing!.ok).toBe(false);
    expect(missing!.error.code).toBe('ENOPLUGIN');
    channel.close();
  });

  it('a worker that exits in the call wakes the host with its exit code', async () => {
    const channel = await served();
    expect(channel.call([{ module: 'm1', fn: 'exit' }], null, 60_000)).toBe('exited');
    expect(channel.exitCode).toBe(4);
    channel.close();
  });

  it('a worker that exited before the call: the call says so without waiting', () => {
    const channel = new SyncChannel('unit');
    const words = new Int32Array(channel.end.state);
    Atomics.store(words, EXIT_CODE, 9);
    Atomics.store(words, STATE, EXITING);
    // a timeout this long would fail the test by its own limit had the call waited
    expect(channel.call([{ module: 'm', fn: 'f' }], null, 3_600_000)).toBe('exited');
    expect(channel.exitCode).toBe(9);
    channel.close();
    channel.end.port.close();
  });

  it('no answer within the time: timeout; arguments that cannot be cloned do not cross', () => {
    const channel = new SyncChannel('unit');
    expect(channel.call([{ module: 'm', fn: 'f' }], { n: 1 }, 30)).toBe('timeout');
    const answers = channel.call([{ module: 'm', fn: 'f' }, { module: 'm', fn: 'g' }], { list: [1, Symbol('s')] }, 3_600_000);
    expect(answers).toHaveLength(2);
    for (const a of answers as { ok: boolean; error: Error & { code?: string } }[]) {
      expect(a.ok).toBe(false);
      expect(a.error.code).toBe('EDATACLONE');
      expect(a.error.message).toContain('args.list[1] cannot cross to node "unit"');
    }
    channel.close();
    channel.end.port.close();
  });
});
