/**
 * The crossings to one worker: how calls, runs of a point's plugins, pipe runs and health probes are
 * posted to it and their answers matched back, with one deadline sweep for all of them (see
 * `PendingCalls`). The node (`WorkerNode`) supervises the worker; this side only needs to know the worker
 * to post to while it is up, and why not otherwise.
 */
import type { Worker } from 'node:worker_threads';
import { nodeError, type NodeAnswer, type NodeCall } from './node.js';
import { unclonablePath, unpackThrown, type FromWorker, type RunAnswers, type ToWorker, type WireAnswer } from './wire.js';
import { PendingCalls, type Pending } from './pending-calls.js';
import type { CrossingPipeAnswer, CrossingPlan } from '../calls/crossing-node.js';

/** What the crossings need of their node. */
export interface CrossingLink {
  readonly name: string;
  /** The worker to post to while the node is up and ready; null otherwise. */
  target(): Worker | null;
  /** Why calls cannot cross now (an ENODEDOWN error). */
  downError(): Error;
  /** A crossing was not answered within the limit (and was answered ETIMEOUT): the worker must go. */
  overdue(): void;
}

/** Calls waiting for the end of the turn to cross. */
interface Outgoing {
  batch: NodeCall[];
  resolve(answers: NodeAnswer[]): void;
}

/** How many plans a worker keeps; past that it is told to forget them all, and they are sent again. */
const PLANS_MAX = 1000;

export class WorkerCalls {
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
  crossings = 0;

  constructor(
    private readonly link: CrossingLink,
    private readonly limitMs: number,
  ) {
    this.pending = new PendingCalls(limitMs, (_id, p) => {
      const message = `node "${link.name}" did not answer within callTimeoutMs (${limitMs} ms); its worker is restarted`;
      this.fail(p, nodeError('ETIMEOUT', message));
      link.overdue();
    });
  }

  /** A new worker: it knows no plan yet. */
  reset(): void {
    this.plans = new Map();
    this.turn = null;
  }

  /** Answers every crossing in flight with `error` (the worker is gone). */
  failAll(error: Error): void {
    for (const p of this.pending.takeAll()) this.fail(p, error);
  }

  call(batch: NodeCall[]): Promise<NodeAnswer[]> {
    if (this.link.target() === null) return Promise.resolve(this.allFail(batch.length, this.link.downError()));
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
    const worker = this.link.target();
    const size = plan.entries.length;
    if (worker === null) return Promise.resolve(this.allFail(size, this.link.downError()));
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
    const worker = this.link.target();
    if (worker !== null) {
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
        if (worker === null) throw this.link.downError();
        worker.postMessage([id, runs[i + 1] as number, runs[i + 2]] satisfies ToWorker);
        this.crossings++;
      } catch (err) {
        const p = this.pending.take(id);
        if (p !== undefined) this.fail(p, worker === null ? (err as Error) : this.cloneError(runs[i + 2], 'args', err));
      }
    }
  };

  /** Runs the plugins of `plan` as consecutive pipe steps from `state`, in one crossing. */
  pipe(plan: CrossingPlan, state: unknown): Promise<CrossingPipeAnswer> {
    const worker = this.link.target();
    if (worker === null) return Promise.resolve({ ok: false, ran: 0, error: this.link.downError() });
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
    return nodeError('EDATACLONE', `${where} cannot cross to node "${this.link.name}" by structured clone: ${(err as Error).message}`);
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
    const worker = this.link.target();
    const size = parts.reduce((n, p) => n + p.batch.length, 0);
    if (worker === null) {
      const error = this.link.downError();
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
    const worker = this.link.target();
    if (worker === null) throw this.link.downError();
    const id = this.nextId++;
    const answers = await new Promise<NodeAnswer[]>((resolve) => {
      this.pending.add(id, 0, resolve, 1);
      worker.postMessage({ t: 'health', id, module } satisfies ToWorker);
    });
    const a = answers[0]!;
    if (a.ok) return a.data;
    throw a.error;
  }

  /** Takes an answer from the worker; false for a message that is not one. */
  received(m: FromWorker): boolean {
    if (Array.isArray(m)) {
      const p = this.pending.take(m[0]);
      if (p !== undefined) (p.resolve as (a: NodeAnswer[]) => void)(runAnswers(m));
      return true;
    }
    switch (m.t) {
      case 'answers': {
        const p = this.pending.take(m.id);
        if (p !== undefined) (p.resolve as (a: NodeAnswer[]) => void)(m.answers.map(toAnswer));
        return true;
      }
      case 'ran':
        for (const a of m.answers) {
          const p = this.pending.take(a[0]);
          if (p !== undefined) (p.resolve as (a: NodeAnswer[]) => void)(runAnswers(a));
        }
        return true;
      case 'piped': {
        const p = this.pending.take(m.id);
        if (p === undefined) return true;
        const a: CrossingPipeAnswer = m.ok ? { ok: true, ran: m.ran, halted: m.halted, data: m.data } : { ok: false, ran: m.ran, error: unpackThrown(m.error) };
        (p.resolve as (a: CrossingPipeAnswer) => void)(a);
        return true;
      }
      default:
        return false;
    }
  }

  /** Answers a crossing with `error` for each of its entries. */
  fail(p: Pending, error: Error): void {
    if (p.kind === 1) (p.resolve as (a: CrossingPipeAnswer) => void)({ ok: false, ran: 0, error });
    else (p.resolve as (a: NodeAnswer[]) => void)(this.allFail(p.size, error));
  }

  allFail(size: number, error: Error): NodeAnswer[] {
    const answers: NodeAnswer[] = [];
    for (let i = 0; i < size; i++) answers.push({ ok: false, error });
    return answers;
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
