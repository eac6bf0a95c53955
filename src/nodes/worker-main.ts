/**
 * The entry of a worker node: loads its plugin folder with the project's own folder code, announces each
 * module to the host (everything but the code), and runs batches of plugin calls. Flags, counters and
 * history are the host's; this side only keeps the functions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PluginFolders } from '../modules/folder.js';
import { readExports, type Declarations } from '../core/declarations.js';
import type { NodeCall } from './node.js';
import { HALT } from '../core/halt.js';
import { packThrown, unclonablePath, type FromWorker, type ToWorker, type RunAnswers, type WireAnswer, type WireThrown } from './wire.js';
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

/**
 * Every message to the host is counted, and for the last RING answers which crossing each answered: a
 * message the host cannot read (its `messageerror`) is reported back by its number (`lost`), and that
 * crossing is answered again, with EDATACLONE, so that no call waits for an answer that never comes.
 */
const RING = 256;
const RUN = 1;
const ANSWERS = 2;
const PIPED = 3;
const RAN = 4;
let posted = 0;
const ringSeq = new Float64Array(RING);
const ringId = new Float64Array(RING);
const ringSize = new Uint32Array(RING);
const ringKind = new Uint8Array(RING);
/** For a message answering several runs (RAN): their ids and sizes. */
const ringRuns: (number[] | undefined)[] = new Array(RING);

/** Posts `message`; for an answer (`kind`), remembers its crossing `id` and `size` (for a pipe: the step to blame). */
function post(message: FromWorker, kind = 0, id = 0, size = 0): void {
  port.postMessage(message);
  const seq = ++posted;
  if (kind === 0) return;
  const at = seq % RING;
  ringSeq[at] = seq;
  ringId[at] = id;
  ringSize[at] = size;
  ringKind[at] = kind;
  if (kind === RAN) ringRuns[at] = (message as { answers: RunAnswers[] }).answers.flatMap((a) => [a[0], a[1].length]);
}

/** The host could not read message `seq`: if it was an answer, answers its crossing again with EDATACLONE. */
function lost(seq: number, reason: string): void {
  const at = seq % RING;
  const kind = ringKind[at]!;
  if (ringSeq[at] !== seq || kind === 0) return;
  ringKind[at] = 0;
  const id = ringId[at]!;
  const size = ringSize[at]!;
  const message = `the answer could not be read in the host (${reason}): a value crossed that structured clone wrote but the host cannot rebuild`;
  const error: WireThrown = { error: { name: 'Error', message, code: 'EDATACLONE' } };
  if (kind === RAN) {
    const runs = ringRuns[at] ?? [];
    ringRuns[at] = undefined;
    for (let i = 0; i < runs.length; i += 2) post([runs[i]!, new Array(runs[i + 1]!), new Array<WireThrown>(runs[i + 1]!).fill(error)]);
  } else if (kind === RUN) post([id, new Array(size), new Array<WireThrown>(size).fill(error)]);
  else if (kind === ANSWERS) post({ t: 'answers', id, answers: Array.from({ length: size }, () => ({ ok: false as const, error })) });
  else post({ t: 'piped', id, ok: false, ran: size, error });
}
/** Bumped whenever a module comes or goes, so that plans look their functions up again. */
let version = 0;

type Fn = (args: unknown) => unknown;
/** The plans the host sent: lists of plugins, their functions looked up when first run after a change. */
interface Plan {
  entries: [module: string, fn: string][];
  fns: (Fn | null)[];
  version: number;
}
const plans = new Map<number, Plan>();

const folders = new PluginFolders(
  {
    read: (name, exports) => readExports(name, exports),
    install: (name, decls, _origin, file) => {
      modules.set(name, decls);
      version++;
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
      version++;
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
    if (plugin === undefined) throw notLoaded(call.module, call.fn);
    return { ok: true, data: await plugin.impl(call.args) };
  } catch (err) {
    return { ok: false, error: packThrown(err) };
  }
}

function notLoaded(module: string, fn: string): Error {
  return Object.assign(new Error(`plugin ${fn} of module ${module} is not loaded on this node`), { code: 'ENOPLUGIN' });
}

/** The functions of `plan` now (null for a plugin no longer loaded). */
function fnsOf(plan: Plan): (Fn | null)[] {
  if (plan.version !== version) {
    plan.fns = plan.entries.map(([module, fn]) => (modules.get(module)?.plugins.find((p) => p.fn === fn)?.impl as Fn | undefined) ?? null);
    plan.version = version;
  }
  return plan.fns;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** Runs every plugin of plan `planId` with `args` (thenables at once, as `parallel`) and answers once all settled. */
function runPlan(id: number, planId: number, args: unknown): void {
  const plan = plans.get(planId);
  if (plan === undefined) {
    post({ t: 'answers', id, answers: [{ ok: false, error: packThrown(new Error(`plan ${planId} is unknown to this worker`)) }] });
    return;
  }
  const fns = fnsOf(plan);
  const n = fns.length;
  const data = new Array<unknown>(n);
  let thrown: WireThrown[] | 0 = 0;
  let waiting = 0;
  const threw = (i: number, e: unknown) => ((thrown === 0 ? (thrown = []) : thrown)[i] = packThrown(e));
  const settled = () => {
    if (--waiting === 0) answerRun(id, data, thrown);
  };
  for (let i = 0; i < n; i++) {
    const f = fns[i]!;
    try {
      if (f === null) throw notLoaded(...plan.entries[i]!);
      const d = f(args);
      if (isThenable(d)) {
        const settling = Promise.resolve(d);
        waiting++;
        settling.then(
          (v) => {
            data[i] = v;
            settled();
          },
          (e: unknown) => {
            threw(i, e);
            settled();
          },
        );
      } else data[i] = d;
    } catch (e) {
      threw(i, e);
    }
  }
  if (waiting !== 0) return;
  if (collected !== null) collected.push([id, data, thrown]);
  else answerRun(id, data, thrown);
}

/** While `runMany` runs: the answers of runs that answered at once, posted together after. */
let collected: RunAnswers[] | null = null;

/** Runs a turn's runs (flat triples id, plan, args); those that answer at once answer in one message. */
function runMany(runs: unknown[]): void {
  const out: RunAnswers[] = [];
  collected = out;
  try {
    for (let i = 0; i < runs.length; i += 3) runPlan(runs[i] as number, runs[i + 1] as number, runs[i + 2]);
  } finally {
    collected = null;
  }
  if (out.length === 0) return;
  try {
    post({ t: 'ran', answers: out }, RAN);
  } catch {
    for (const [id, data, thrown] of out) answerRun(id, data, thrown); // each alone, the unclonable found
  }
}

/** Posts a run's answers; a value that cannot be cloned is replaced, alone, by an EDATACLONE error. */
function answerRun(id: number, data: unknown[], thrown: WireThrown[] | 0): void {
  try {
    post([id, data, thrown], RUN, id, data.length);
    return;
  } catch {
    // One of them cannot cross: find which.
  }
  const errors: WireThrown[] = thrown === 0 ? [] : thrown;
  for (let i = 0; i < data.length; i++) {
    const bad = errors[i] !== undefined ? unclonable(errors[i], 'thrown value') : unclonable(data[i], 'result');
    if (bad === null) continue;
    data[i] = undefined;
    errors[i] = bad;
  }
  post([id, data, errors], RUN, id, data.length);
}

/** Null when `value` clones; else the EDATACLONE error to send instead. */
function unclonable(value: unknown, root: string): WireThrown | null {
  try {
    structuredClone(value);
    return null;
  } catch (err) {
    const message = `${unclonablePath(value, root)} cannot cross to the host by structured clone: ${(err as Error).message}`;
    return { error: { name: 'Error', message, code: 'EDATACLONE' } };
  }
}

/** Runs the plugins of plan `planId` as pipe steps from `state`, to the end, a halt or a failure. */
async function runPipe(id: number, planId: number, state: unknown): Promise<void> {
  const plan = plans.get(planId);
  let ran = 0;
  let halted = false;
  try {
    if (plan === undefined) throw new Error(`plan ${planId} is unknown to this worker`);
    const fns = fnsOf(plan);
    for (let i = 0; i < fns.length; i++) {
      const f = fns[i]!;
      if (f === null) throw notLoaded(...plan.entries[i]!);
      let d = f(state);
      if (isThenable(d)) d = await d;
      ran++;
      if (d !== null && typeof d === 'object' && HALT in d) {
        halted = true;
        state = (d as { [HALT]: unknown })[HALT];
        break;
      }
      state = d;
    }
  } catch (e) {
    post({ t: 'piped', id, ok: false, ran, error: packThrown(e) }, PIPED, id, ran);
    return;
  }
  try {
    post({ t: 'piped', id, ok: true, ran, halted, data: state }, PIPED, id, Math.max(0, ran - 1));
  } catch (err) {
    const message = `${unclonablePath(state, 'result')} cannot cross to the host by structured clone: ${(err as Error).message}`;
    post({ t: 'piped', id, ok: false, ran: Math.max(0, ran - 1), error: { error: { name: 'Error', message, code: 'EDATACLONE' } } });
  }
}

/** Posts answers; an answer that cannot be cloned is replaced, alone, by an EDATACLONE error. */
function answer(id: number, answers: WireAnswer[]): void {
  try {
    post({ t: 'answers', id, answers }, ANSWERS, id, answers.length);
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
  post({ t: 'answers', id, answers: safe }, ANSWERS, id, safe.length);
}

port.on('message', (message: ToWorker) => {
  if (Array.isArray(message)) runPlan(message[0], message[1], message[2]);
  else if (message.t === 'runs') runMany(message.runs);
  else if (message.t === 'plan') plans.set(message.id, { entries: message.entries, fns: [], version: -1 });
  else if (message.t === 'forget') plans.clear();
  else if (message.t === 'lost') lost(message.seq, message.reason);
  else if (message.t === 'pipe') void runPipe(message.id, message.plan, message.state);
  else if (message.t === 'call') {
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
