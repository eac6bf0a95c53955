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
import type { FromWorker, ToWorker } from './wire.js';
import { WorkerCalls } from './worker-calls.js';
import type { CrossingPipeAnswer, CrossingPlan } from '../calls/crossing-node.js';
import type { WorkerNodeData } from './worker-main.js';
import { DownWatch } from './down-watch.js';
import { SyncChannel } from './sync-channel.js';
import type { CrossingCall } from '../calls/crossing.js';

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

export class WorkerNode implements PluginNode {
  readonly kind = 'worker' as const;
  status: NodeStatus = 'down';
  private worker: Worker | null = null;
  private ready = false;
  private readonly policy: RestartPolicy;
  /** Calls crossing to the worker, and their answers. */
  private readonly crossings: WorkerCalls;
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
  /** The current worker's channel for sync calls. */
  private sync: SyncChannel | null = null;

  constructor(
    readonly settings: WorkerNodeSettings,
    private readonly host: NodeHost,
  ) {
    this.policy = new RestartPolicy(settings.restart);
    this.crossings = new WorkerCalls(
      {
        name: settings.name,
        target: () => (this.ready ? this.worker : null),
        downError: () => this.downError(),
        overdue: () => this.fault(`a call did not answer within callTimeoutMs (${settings.callTimeoutMs} ms)`),
      },
      settings.callTimeoutMs,
    );
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
    return this.crossings.call(batch);
  }

  /** Runs every plugin of `plan` with `args`: one crossing (shared with the other runs of this turn after its first). */
  run(plan: CrossingPlan, args: unknown): Promise<NodeAnswer[]> {
    return this.crossings.run(plan, args);
  }

  /** Runs the plugins of `plan` as consecutive pipe steps from `state`, in one crossing. */
  pipe(plan: CrossingPlan, state: unknown): Promise<CrossingPipeAnswer> {
    return this.crossings.pipe(plan, state);
  }

  /**
   * Runs a batch synchronously, blocking until the worker answers: at most `callTimeoutMs`, after which
   * every entry answers `ETIMEOUT` and the worker is ended and restarted as for an async call. A worker
   * that exits meanwhile answers `ENODEDOWN`. Never throws. One crossing.
   */
  callSync(calls: readonly CrossingCall[], args: unknown): NodeAnswer[] {
    const sync = this.sync;
    if (this.worker === null || !this.ready || sync === null) return this.crossings.allFail(calls.length, this.downError());
    this.crossings.crossings++;
    const timeoutMs = this.settings.callTimeoutMs;
    const outcome = sync.call(calls, args, timeoutMs);
    if (outcome === 'timeout') {
      const message = `node "${this.name}" did not answer a sync call within callTimeoutMs (${timeoutMs} ms); its worker is restarted`;
      this.kill(`a sync call did not answer within callTimeoutMs (${timeoutMs} ms)`);
      return this.crossings.allFail(calls.length, nodeError('ETIMEOUT', message));
    }
    if (outcome === 'exited') {
      const reason = `the worker exited with code ${sync.exitCode} during a sync call`;
      this.fault(reason);
      return this.crossings.allFail(calls.length, nodeError('ENODEDOWN', `node "${this.name}" went down: ${reason}`));
    }
    return outcome;
  }

  health(module: string): Promise<unknown> {
    return this.crossings.health(module);
  }

  adoptRestarts(count: number): void {
    if (Number.isSafeInteger(count) && count > 0) this.restarts += count;
  }

  row(): Omit<NodeRow, 'plugins'> {
    return {
      node: this.name,
      kind: 'worker',
      status: this.status,
      calls: this.crossings.crossings,
      restarts: this.restarts,
      lastReasons: [...this.reasons],
      startedAt: this.status === 'up' ? this.startedAt : null,
    };
  }

  // -------------------------------------------------------------------------------------------------

  private spawn(): Promise<void> {
    this.downWatch.close();
    const sync = (this.sync = new SyncChannel(this.name));
    const data: WorkerNodeData = { dir: this.settings.dir, watch: this.settings.watch, checkPermissions: this.settings.checkPermissions, sync: sync.end };
    const transferList = [sync.end.port];
    const options = this.settings.resourceLimits === undefined ? { workerData: data, transferList } : { workerData: data, transferList, resourceLimits: this.settings.resourceLimits };
    const worker = new Worker(workerEntry(), options);
    this.worker = worker;
    this.ready = false;
    this.announced = new Set();
    this.crossings.reset();
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
    if (this.crossings.received(m)) return;
    if (Array.isArray(m)) return;
    switch (m.t) {
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
    this.sync?.close();
    this.sync = null;
    this.clearStart();
    void worker.terminate();
    this.reasons.push(reason);
    if (this.reasons.length > REASONS_KEPT) this.reasons.shift();
    const error = nodeError('ENODEDOWN', `node "${this.name}" went down: ${reason}`);
    this.crossings.failAll(error);
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

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}: ${err.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  return String(err);
}
