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
import { unclonablePath, unpackThrown, type WireAnswer } from './wire.js';

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

/** Host to worker: one batch, every plugin called with the same `args`. */
export interface SyncRequest {
  id: number;
  calls: readonly CrossingCall[];
  args: unknown;
}

/** Worker to host. `async` marks a plugin that returned a thenable to the sync call. */
export interface SyncReply {
  id: number;
  answers: (WireAnswer | { ok: false; async: true })[];
}

/** How a sync call ended when it did not end with answers. */
export type SyncFault = 'timeout' | 'exited';

export class SyncChannel {
  private readonly port: MessagePort;
  private readonly words: Int32Array;
  /** Handed to the worker at its start; its port is transferred. */
  readonly end: SyncEnd;
  private nextId = 1;

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
    try {
      this.port.postMessage({ id, calls, args } satisfies SyncRequest);
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
      if (m.message.id !== id) continue;
      return m.message.answers.map((a, k): NodeAnswer => {
        if (a.ok) return a;
        if ('async' in a) return { ok: false, error: asyncInSyncError(calls[k]!.module, calls[k]!.fn) };
        return { ok: false, error: unpackThrown(a.error) };
      });
    }
  }
}
