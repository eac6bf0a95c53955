/**
 * The entry of a worker node: loads its plugin folder with the project's own folder code, announces each
 * module to the host (everything but the code), and runs batches of plugin calls. Flags, counters and
 * history are the host's; this side only keeps the functions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PluginFolders } from '../modules/folder.js';
import { readExports, type Declarations } from '../core/declarations.js';
import type { NodeCall } from './node.js';
import { packThrown, unclonablePath, type FromWorker, type ToWorker, type WireAnswer } from './wire.js';
import type { SyncEnd } from './sync-channel.js';
import { serveSync } from './sync-worker.js';

/** What the host gives a worker node. */
export interface WorkerNodeData {
  dir: string;
  watch: boolean;
  checkPermissions: boolean;
  /** The worker's end of the channel for sync calls (see sync-channel.ts). */
  sync: SyncEnd;
}

const port = parentPort!;
const data = workerData as WorkerNodeData;
const modules = new Map<string, Declarations>();
const post = (message: FromWorker) => port.postMessage(message);

const folders = new PluginFolders(
  {
    read: (name, exports) => readExports(name, exports),
    install: (name, decls, _origin, file) => {
      modules.set(name, decls);
      post({
        t: 'install',
        name,
        file,
        plugins: decls.plugins.map(({ fn, module, point, meta }) => ({ fn, module, point, meta: { priority: meta.priority, depends: [...meta.depends] } })),
        points: decls.points.map(({ fn, point }) => ({ fn, point })),
        problems: decls.problems.map((p) => ({ ...p })),
        health: decls.health !== undefined,
      });
      return true;
    },
    uninstall: (name) => {
      const had = modules.delete(name);
      if (had) post({ t: 'uninstall', name });
      return had;
    },
    loadError: (error) => post({ t: 'loadError', error: { ...error } }),
    originOf: (name) => (modules.has(name) ? 'folder' : undefined),
  },
  { dirs: [data.dir], watch: data.watch, checkPermissions: data.checkPermissions },
);

serveSync(data.sync, (module, fn) => modules.get(module)?.plugins.find((p) => p.fn === fn)?.impl);

async function runOne(call: NodeCall): Promise<WireAnswer> {
  try {
    const plugin = modules.get(call.module)?.plugins.find((p) => p.fn === call.fn);
    if (plugin === undefined) throw Object.assign(new Error(`plugin ${call.fn} of module ${call.module} is not loaded on this node`), { code: 'ENOPLUGIN' });
    return { ok: true, data: await plugin.impl(call.args) };
  } catch (err) {
    return { ok: false, error: packThrown(err) };
  }
}

/** Posts answers; an answer that cannot be cloned is replaced, alone, by an EDATACLONE error. */
function answer(id: number, answers: WireAnswer[]): void {
  try {
    post({ t: 'answers', id, answers });
    return;
  } catch {
    // One of them cannot cross: find which.
  }
  const safe = answers.map((a): WireAnswer => {
    try {
      structuredClone(a);
      return a;
    } catch (err) {
      const where = a.ok ? unclonablePath(a.data, 'result') : unclonablePath(a.error, 'thrown value');
      const message = `${where} cannot cross to the host by structured clone: ${(err as Error).message}`;
      return { ok: false, error: { error: { name: 'Error', message, code: 'EDATACLONE' } } };
    }
  });
  post({ t: 'answers', id, answers: safe });
}

port.on('message', (message: ToWorker) => {
  if (message.t === 'call') {
    void Promise.all(message.batch.map(runOne)).then((answers) => answer(message.id, answers));
  } else if (message.t === 'health') {
    const probe = modules.get(message.module)?.health;
    void (async (): Promise<WireAnswer> => {
      try {
        return { ok: true, data: probe === undefined ? 'ok' : await probe() };
      } catch (err) {
        return { ok: false, error: packThrown(err) };
      }
    })()
      .then((a) => answer(message.id, [a]));
  }
});

await folders.start();
post({ t: 'ready' });
