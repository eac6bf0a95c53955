/**
 * A node in a worker thread, with its supervisor: it starts the worker, relays calls to it, and turns
 * every fault (a call past `callTimeoutMs`, `process.exit()`, an uncaught error, out of memory, a start
 * that never ends) into `EXIT` answers for the calls in flight and a restart, as `RestartPolicy` decides.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RestartPolicy, type RestartLimits } from './restart-policy.js';
import { nodeError, REASONS_KEPT, type NodeAnswer, type NodeCall, type NodeHost, type NodeRow, type NodeStatus, type PluginNode } from './node.js';
import { unclonablePath, unpackThrown, type FromWorker, type RunAnswers, type ToWorker, type WireAnswer } from './wire.js';
import { PendingCalls, type Pending } from './pending-calls.js';
import type { CrossingPipeAnswer, CrossingPlan } from '../calls/crossing.js';
import type { WorkerNodeData } from './worker-main.js';
import { DownWatch } from './down-watch.js';

/** The settings of one worker node, checked (see `nodeDirOptions`). */
export interface WorkerNodeSettings {
  name: string;
  dir: string;
  watch: boolean;
  checkPermissions: boolean;
  resourceLimits?: ResourceLimits;
  restart: RestartLimits;
  callTimeoutMs: number;
  startTimeoutMs: number;
}

/** The worker's entry: next to this file once built; from dist/ when this file runs as TypeScript (tests). */
function workerEntry(): URL {
  const here = new URL('./worker-main.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../dist/nodes/worker-main.js', import.meta.url);
}

/** Calls waiting for the end of the turn to cross. */
interface Outgoing {
  batch: NodeCall[];
  resolve(answers: NodeAnswer[]): void;
}

/** How many plans a worker keeps; past that it is told to forget them all, and they are sent again. */
const PLANS_MAX = 1000;

export class WorkerNode implements PluginNode {
  readonly kind = 'worker' as const;
  status: NodeStatus = 'down';
  private worker: Worker | null = null;
  private ready = false;
  private readonly policy: RestartPolicy;
  private readonly pending: PendingCalls;
  private outbox: Outgoing[] | null = null;
  private nextId = 1;
  /** Plans the current worker knows, by key. */
  private plans = new Map<string, number>();
  private nextPlan = 1;
  /** The runs of this turn after its first, waiting to cross together at its end: id, plan, args. */
  private turn: unknown[] | null = null;
  /** True from a turn's first run to the end of that turn. */
  private turnOpen = false;
  /** Messages carrying plugin calls posted to the worker. */
  private crossings = 0;
  private restarts = 0;
  private readonly reasons: string[] = [];
  private startedAt: Date | null = null;
  private stopped = true;
  private restartTimer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null = null;
  /** Modules the host registered for this node, and those the current run announced. */
  private readonly registered = new Set<string>();
  private announced = new Set<string>();
  /** Settles `start()` once the first run answered or failed. */
  private firstRun: (() => void) | null = null;
  private readonly downWatch: DownWatch;

  constructor(
    readonly settings: WorkerNodeSettings,
    private readonly host: NodeHost,
  ) {
    this.policy = new RestartPolicy(settings.restart);
    this.pending = new PendingCalls(settings.callTimeoutMs, (_id, p) => this.timedOut(p));
    this.downWatch = new DownWatch(settings.dir, () => void this.restart());
  }

  get name(): string {
    return this.settings.name;
  }

  start(): Promise<void> {
    if (!this.stopped) return Promise.resolve();
    this.stopped = false;
    this.policy.reset();
    return this.spawn();
  }

  restart(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.policy.reset();
    if (this.worker !== null) this.fault('restarted by hand', false);
    this.clearRestart();
    return this.spawn();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRestart();
    this.downWatch.close();
    const worker = this.worker;
    if (worker !== null) this.fault('node stopped', false);
    this.status = 'down';
    if (worker !== null) await worker.terminate();
  }

  call(batch: NodeCall[]): Promise<NodeAnswer[]> {
    if (this.worker === null || !this.ready) return Promise.resolve(this.allFail(batch.length, this.downError()));
    return new Promise((resolve) => {
      // Calls made in the same turn cross together: one message out, one back.
      if (this.outbox === null) {
        this.outbox = [];
        queueMicrotask(() => this.flush());
      }
      this.outbox.push({ batch, resolve });
    });
  }

  /** Runs every plugin of `plan` with `args`: one message `[id, plan, args]` out, one back. */
  run(plan: CrossingPlan, args: unknown): Promise<NodeAnswer[]> {
    const worker = this.worker;
    const size = plan.entries.length;
    if (worker === null || !this.ready) return Promise.resolve(this.allFail(size, this.downError()));
    if (this.outbox !== null) this.flush(); // calls made earlier in this turn go first
    const planId = this.planOf(worker, plan);
    const id = this.nextId++;
    if (this.turnOpen) {
      // Not the first run of this turn: it crosses with the turn's others, at the end of the turn.
      (this.turn ??= []).push(id, planId, args);
      return new Promise((resolve) => this.pending.add(id, 0, resolve, size));
    }
    try {
      worker.postMessage([id, planId, args] satisfies ToWorker);
    } catch (err) {
      return Promise.resolve(this.allFail(size, this.cloneError(args, 'args', err)));
    }
    this.crossings++;
    this.turnOpen = true;
    queueMicrotask(this.endTurn);
    return new Promise((resolve) => this.pending.add(id, 0, resolve, size));
  }

  /** Sends the runs waiting for the end of the turn, as one message (each alone if that cannot be cloned). */
  private readonly endTurn = (): void => {
    this.turnOpen = false;
    const runs = this.turn;
    this.turn = null;
    if (runs === null) return;
    const worker = this.worker;
    if (worker !== null && this.ready) {
      try {
        worker.postMessage({ t: 'runs', runs } satisfies ToWorker);
        this.crossings++;
        return;
      } catch {
        // one of them cannot be cloned: each crosses alone below
      }
    }
    for (let i = 0; i < runs.length; i += 3) {
      const id = runs[i] as number;
      try {
        if (worker === null || !this.ready) throw this.downError();
        worker.postMessage([id, runs[i + 1] as number, runs[i + 2]] satisfies ToWorker);
        this.crossings++;
      } catch (err) {
        const p = this.pending.take(id);
        if (p !== undefined) this.fail(p, worker === null || !this.ready ? (err as Error) : this.cloneError(runs[i + 2], 'args', err));
      }
    }
  };

  /** Runs the plugins of `plan` as consecutive pipe steps from `state`, in one crossing. */
  pipe(plan: CrossingPlan, state: unknown): Promise<CrossingPipeAnswer> {
    const worker = this.worker;
    if (worker === null || !this.ready) return Promise.resolve({ ok: false, ran: 0, error: this.downError() });
    if (this.outbox !== null) this.flush(); // calls made earlier in this turn go first
    if (this.turn !== null) this.endTurn();
    const planId = this.planOf(worker, plan);
    const id = this.nextId++;
    try {
      worker.postMessage({ t: 'pipe', id, plan: planId, state } satisfies ToWorker);
    } catch (err) {
      return Promise.resolve({ ok: false, ran: 0, error: this.cloneError(state, 'state', err) });
    }
    this.crossings++;
    return new Promise((resolve) => this.pending.add(id, 1, resolve, plan.entries.length));
  }

  /** The id of `plan` in the current worker, sending it there first if the worker does not know it yet. */
  private planOf(worker: Worker, plan: CrossingPlan): number {
    let id = this.plans.get(plan.key);
    if (id !== undefined) return id;
    if (this.plans.size >= PLANS_MAX) {
      if (this.turn !== null) this.endTurn(); // runs waiting name plans about to be forgotten
      this.plans.clear();
      worker.postMessage({ t: 'forget' } satisfies ToWorker);
    }
    id = this.nextPlan++;
    this.plans.set(plan.key, id);
    worker.postMessage({ t: 'plan', id, entries: plan.entries.map((e): [string, string] => [e.module, e.fn]) } satisfies ToWorker);
    return id;
  }

  private cloneError(value: unknown, root: string, err: unknown): Error {
    const where = unclonablePath(value, root);
    return nodeError('EDATACLONE', `${where} cannot cross to node "${this.name}" by structured clone: ${(err as Error).message}`);
  }

  /** Sends the calls of this turn as one message; a part that cannot be cloned is sent (and fails) alone. */
  private flush(): void {
    const parts = this.outbox;
    this.outbox = null;
    if (parts === null) return;
    if (parts.length === 1 || !this.send(parts)) for (const part of parts) this.send([part]);
  }

  /** Posts `parts` as one message; false when it could not be cloned (a single part then answers EDATACLONE). */
  private send(parts: Outgoing[]): boolean {
    const worker = this.worker;
    const size = parts.reduce((n, p) => n + p.batch.length, 0);
    if (worker === null || !this.ready) {
      const error = this.downError();
      for (const part of parts) part.resolve(this.allFail(part.batch.length, error));
      return true;
    }
    const id = this.nextId++;
    const batch = parts.length === 1 ? parts[0]!.batch : parts.flatMap((p) => p.batch);
    try {
      worker.postMessage({ t: 'call', id, batch } satisfies ToWorker);
    } catch (err) {
      if (parts.length > 1) return false;
      parts[0]!.resolve(this.allFail(size, this.cloneError(parts[0]!.batch[0]?.args, 'args', err)));
      return true;
    }
    this.crossings++;
    const resolve =
      parts.length === 1
        ? parts[0]!.resolve
        : (answers: NodeAnswer[]) => {
            let at = 0;
            for (const part of parts) {
              part.resolve(answers.slice(at, at + part.batch.length));
              at += part.batch.length;
            }
          };
    this.pending.add(id, 0, resolve, size);
    return true;
  }

  async health(module: string): Promise<unknown> {
    const worker = this.worker;
    if (worker === null || !this.ready) throw this.downError();
    const id = this.nextId++;
    const answers = await new Promise<NodeAnswer[]>((resolve) => {
      this.pending.add(id, 0, resolve, 1);
      worker.postMessage({ t: 'health', id, module } satisfies ToWorker);
    });
    const a = answers[0]!;
    if (a.ok) return a.data;
    throw a.error;
  }

  adoptRestarts(count: number): void {
    if (Number.isSafeInteger(count) && count > 0) this.restarts += count;
  }

  row(): Omit<NodeRow, 'plugins'> {
    return {
      node: this.name,
      kind: 'worker',
      status: this.status,
      calls: this.crossings,
      restarts: this.restarts,
      lastReasons: [...this.reasons],
      startedAt: this.status === 'up' ? this.startedAt : null,
    };
  }

  // -------------------------------------------------------------------------------------------------

  private spawn(): Promise<void> {
    this.downWatch.close();
    const data: WorkerNodeData = { dir: this.settings.dir, watch: this.settings.watch, checkPermissions: this.settings.checkPermissions };
    const options = this.settings.resourceLimits === undefined ? { workerData: data } : { workerData: data, resourceLimits: this.settings.resourceLimits };
    const worker = new Worker(workerEntry(), options);
    this.worker = worker;
    this.ready = false;
    this.announced = new Set();
    this.plans = new Map();
    this.turn = null;
    // Messages from this worker, counted as it counts them: one the host cannot read is named by its number.
    let seen = 0;
    worker.on('message', (m: FromWorker) => {
      seen++;
      if (this.worker === worker) this.received(m);
    });
    worker.on('messageerror', (err: Error) => {
      seen++;
      if (this.worker === worker) worker.postMessage({ t: 'lost', seq: seen, reason: describeError(err) } satisfies ToWorker);
    });
    worker.on('error', (err) => this.worker === worker && this.fault(`uncaught in the worker: ${describeError(err)}`));
    worker.on('exit', (code) => this.worker === worker && this.fault(`the worker exited with code ${code}`));
    this.startTimer = setTimeout(() => {
      if (this.worker === worker && !this.ready) this.kill(`the worker did not finish loading within ${this.settings.startTimeoutMs} ms`);
    }, this.settings.startTimeoutMs);
    return new Promise((done) => (this.firstRun = done));
  }

  private received(m: FromWorker): void {
    if (Array.isArray(m)) {
      const p = this.pending.take(m[0]);
      if (p !== undefined) (p.resolve as (a: NodeAnswer[]) => void)(runAnswers(m));
      return;
    }
    switch (m.t) {
      case 'answers': {
        const p = this.pending.take(m.id);
        if (p !== undefined) (p.resolve as (a: NodeAnswer[]) => void)(m.answers.map(toAnswer));
        return;
      }
      case 'ran':
        for (const a of m.answers) {
          const p = this.pending.take(a[0]);
          if (p !== undefined) (p.resolve as (a: NodeAnswer[]) => void)(runAnswers(a));
        }
        return;
      case 'piped': {
        const p = this.pending.take(m.id);
        if (p === undefined) return;
        const a: CrossingPipeAnswer = m.ok ? { ok: true, ran: m.ran, halted: m.halted, data: m.data } : { ok: false, ran: m.ran, error: unpackThrown(m.error) };
        (p.resolve as (a: CrossingPipeAnswer) => void)(a);
        return;
      }
      case 'install':
        this.announced.add(m.name);
        if (this.host.install(this.name, m.name, m.plugins, m.points, m.problems, m.health, m.file)) this.registered.add(m.name);
        return;
      case 'uninstall':
        this.announced.delete(m.name);
        if (this.registered.delete(m.name)) this.host.uninstall(this.name, m.name);
        return;
      case 'loadError':
        this.host.loadError(this.name, m.error);
        return;
      case 'ready':
        this.ready = true;
        this.clearStart();
        // Modules an earlier run had and this one did not load are gone.
        for (const name of [...this.registered]) {
          if (!this.announced.has(name)) {
            this.registered.delete(name);
            this.host.uninstall(this.name, name);
          }
        }
        this.status = 'up';
        this.startedAt = new Date();
        this.host.up({ node: this.name });
        this.settleFirstRun();
    }
  }

  private timedOut(p: Pending): void {
    const message = `node "${this.name}" did not answer within callTimeoutMs (${this.settings.callTimeoutMs} ms); its worker is restarted`;
    this.fail(p, nodeError('ETIMEOUT', message));
    this.kill(`a call did not answer within callTimeoutMs (${this.settings.callTimeoutMs} ms)`);
  }

  /** Ends the worker for `reason` and lets the supervisor decide. */
  private kill(reason: string): void {
    this.fault(reason);
  }

  /**
   * The current worker is gone (or going) for `reason`: calls in flight answer ENODEDOWN, and unless the
   * node is stopped or restarted by hand (`supervise` false) the policy decides what comes next.
   */
  private fault(reason: string, supervise = true): void {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    this.ready = false;
    this.clearStart();
    void worker.terminate();
    this.reasons.push(reason);
    if (this.reasons.length > REASONS_KEPT) this.reasons.shift();
    const error = nodeError('ENODEDOWN', `node "${this.name}" went down: ${reason}`);
    for (const p of this.pending.takeAll()) this.fail(p, error);
    if (!supervise || this.stopped) {
      this.settleFirstRun();
      return;
    }
    const decision = this.policy.crashed(Date.now());
    if (decision.restart) {
      this.status = 'restarting';
      this.restarts++;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (!this.stopped) void this.spawn();
      }, decision.delayMs);
    } else {
      this.status = 'down';
      if (this.settings.watch) this.downWatch.open();
    }
    this.host.down({ node: this.name, reason, status: this.status });
    this.settleFirstRun();
  }

  private downError(): Error {
    const last = this.reasons[this.reasons.length - 1];
    const why = this.stopped ? 'the node is stopped' : last === undefined ? 'the node is starting' : last;
    return nodeError('ENODEDOWN', `node "${this.name}" is ${this.status === 'up' ? 'starting' : this.status}: ${why}`);
  }

  /** Answers a crossing with `error` for each of its entries. */
  private fail(p: Pending, error: Error): void {
    if (p.kind === 1) (p.resolve as (a: CrossingPipeAnswer) => void)({ ok: false, ran: 0, error });
    else (p.resolve as (a: NodeAnswer[]) => void)(this.allFail(p.size, error));
  }

  private allFail(size: number, error: Error): NodeAnswer[] {
    const answers: NodeAnswer[] = [];
    for (let i = 0; i < size; i++) answers.push({ ok: false, error });
    return answers;
  }

  private settleFirstRun(): void {
    const done = this.firstRun;
    this.firstRun = null;
    done?.();
  }

  private clearStart(): void {
    if (this.startTimer !== null) clearTimeout(this.startTimer);
    this.startTimer = null;
  }

  private clearRestart(): void {
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}

function runAnswers([, data, thrown]: RunAnswers): NodeAnswer[] {
  const answers = new Array<NodeAnswer>(data.length);
  for (let i = 0; i < data.length; i++) {
    const t = thrown === 0 ? undefined : thrown[i];
    answers[i] = t === undefined ? { ok: true, data: data[i] } : { ok: false, error: unpackThrown(t) };
  }
  return answers;
}

function toAnswer(a: WireAnswer): NodeAnswer {
  return a.ok ? a : { ok: false, error: unpackThrown(a.error) };
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}: ${err.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  return String(err);
}
