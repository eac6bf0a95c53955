/**
 * The host's end of a worker node's sync channel: a `MessageChannel` of its own (the worker holds the
 * other port) and a few shared words. A sync call posts one batch, then blocks in `Atomics.wait` on the
 * state word until the worker says it answered (then takes the answer with `receiveMessageOnPort`), says
 * it is exiting (its `process` 'exit' hook), or the call's time is up. Nothing else runs on the host
 * while it waits, so one channel carries one call at a time and needs no queue.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CrossingCall } from '../calls/crossing.js';
import { asyncInSyncError } from '../calls/crossing.js';
import { nodeError, type NodeAnswer } from './node.js';
import { unclonablePath, unpackThrown, type WireThrown } from './wire.js';

/** Word 0: the state of the current call; word 1: the worker's exit code once it exits. */
export const STATE = 0;
export const EXIT_CODE = 1;
/** Waiting for the worker (also the state between calls). */
export const IDLE = 0;
/** The worker posted its answer. */
export const ANSWERED = 1;
/** The worker is exiting (`process.exit()`, an uncaught error): no answer will come. */
export const EXITING = 2;

/** What the worker gets (in its `workerData`, the port transferred). */
export interface SyncEnd {
  port: MessagePort;
  state: SharedArrayBuffer;
}

/**
 * Host to worker: one batch, every plugin called with the same `args`. A batch's list of plugins crosses
 * once per worker: later calls name it by its number `b`.
 */
export interface SyncRequest {
  id: number;
  b: number;
  calls?: readonly CrossingCall[];
  args: unknown;
}

/**
 * Worker to host: `data[k]` is entry k's value; when some entry failed, `failed[k]` says how (a thrown
 * value, or `ASYNC_IN_SYNC` for a plugin that returned a thenable) and `data[k]` is undefined. A call with
 * no failure carries its values alone.
 */
export interface SyncReply {
  id: number;
  data: unknown[];
  failed: (WireThrown | typeof ASYNC_IN_SYNC | null)[] | null;
}

/** The mark of a plugin that returned a thenable to the sync call. */
export const ASYNC_IN_SYNC = 0;

/** How a sync call ended when it did not end with answers. */
export type SyncFault = 'timeout' | 'exited';

export class SyncChannel {
  private readonly port: MessagePort;
  private readonly words: Int32Array;
  /** Handed to the worker at its start; its port is transferred. */
  readonly end: SyncEnd;
  private nextId = 1;
  /** The number of each batch this worker knows, by its list, and by its content (a list compiled anew). */
  private readonly known = new WeakMap<readonly CrossingCall[], number>();
  private readonly bySignature = new Map<string, number>();

  constructor(private readonly nodeName: string) {
    const { port1, port2 } = new MessageChannel();
    const state = new SharedArrayBuffer(8);
    this.port = port1;
    this.words = new Int32Array(state);
    this.end = { port: port2, state };
  }

  /** The worker's exit code, once `call` returned `'exited'`. */
  get exitCode(): number {
    return Atomics.load(this.words, EXIT_CODE);
  }

  /**
   * Runs `calls` on the worker with `args` and waits for the answers, at most `timeoutMs`. Arguments that
   * cannot be cloned answer `EDATACLONE` for every entry without crossing.
   */
  call(calls: readonly CrossingCall[], args: unknown, timeoutMs: number): NodeAnswer[] | SyncFault {
    const words = this.words;
    // between calls the word is IDLE, unless the worker exited since the last one
    if (Atomics.load(words, STATE) === EXITING) return 'exited';
    const id = this.nextId++;
    let b = this.known.get(calls);
    try {
      if (b !== undefined) this.port.postMessage({ id, b, args } satisfies SyncRequest);
      else {
        const signature = calls.map((c) => `${c.module}\0${c.fn}`).join('\n');
        b = this.bySignature.get(signature);
        const fresh = b === undefined;
        if (b === undefined) b = this.bySignature.size + 1;
        this.port.postMessage((fresh ? { id, b, calls, args } : { id, b, args }) satisfies SyncRequest);
        // known once it crossed (unclonable arguments leave it unknown)
        this.bySignature.set(signature, b);
        this.known.set(calls, b);
      }
    } catch (err) {
      const where = unclonablePath(args, 'args');
      const error = nodeError('EDATACLONE', `${where} cannot cross to node "${this.nodeName}" by structured clone: ${(err as Error).message}`);
      return calls.map(() => ({ ok: false, error }));
    }
    const deadline = performance.now() + timeoutMs;
    let left = timeoutMs;
    for (;;) {
      Atomics.wait(words, STATE, IDLE, left);
      const state = Atomics.compareExchange(words, STATE, ANSWERED, IDLE);
      if (state === ANSWERED) return this.take(id, calls);
      if (state === EXITING) return 'exited';
      left = deadline - performance.now();
      if (left <= 0) return 'timeout';
    }
  }

  /** Stops using the channel (the worker is gone or going). */
  close(): void {
    this.port.close();
  }

  private take(id: number, calls: readonly CrossingCall[]): NodeAnswer[] | SyncFault {
    for (;;) {
      const m = receiveMessageOnPort(this.port) as { message: SyncReply } | undefined;
      // the flag is raised only after the answer was posted, so it is there; an older one cannot be
      // (a call that timed out ends its worker and this channel with it)
      if (m === undefined) return 'exited';
      const { id: answered, data, failed } = m.message;
      if (answered !== id) continue;
      const answers = new Array<NodeAnswer>(calls.length);
      for (let k = 0; k < calls.length; k++) {
        const f = failed === null ? null : failed[k]!;
        if (f === null) answers[k] = { ok: true, data: data[k] };
        else if (f === ASYNC_IN_SYNC) answers[k] = { ok: false, error: asyncInSyncError(calls[k]!.module, calls[k]!.fn) };
        else answers[k] = { ok: false, error: unpackThrown(f) };
      }
      return answers;
    }
  }
}
