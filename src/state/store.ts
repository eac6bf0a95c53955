/**
 * The one narrow interface behind durable operator state. The extension takes a lock, loads the last
 * document before any plugin runs, writes flag changes through before the flag call returns, flushes
 * counters now and then, and closes. The default store is a JSON file (`FileStore`); a replicated store
 * (a NATS key-value bucket, say) backs the same interface.
 */
import type { StateSnapshot } from './snapshot.js';
import { ExtpointError, type ESTATECORRUPT, type ESTATEIO, type ESTATELOCKED, type ESTATEPERM } from '../core/errors.js';

export interface StateStore {
  /** Where the state lives, for messages: a file path, a bucket name. */
  readonly where: string;
  /** Takes the store for this process; rejects (`ESTATELOCKED`) while another live process holds it. */
  lock(): Promise<void>;
  /** The last document written, or null for a fresh start. Rejects (`ESTATECORRUPT`) for a bad one. */
  load(): Promise<StateSnapshot | null>;
  /**
   * Writes a whole document. With `durable` (flag changes), it is on stable storage when this returns;
   * without (periodic counter flushes), a crash may lose it.
   */
  write(snapshot: StateSnapshot, durable: boolean): void;
  /** Releases the lock; the document stays. */
  close(): void;
}

/** An error of the state layer, with a `code` a program can test; an `ExtpointError` too. */
export class StateError extends ExtpointError<StateErrorCode> {
  constructor(code: StateErrorCode, message: string) {
    super(code, message);
    this.name = 'StateError';
  }
}

/** The codes of the state layer's errors. */
export type StateErrorCode = typeof ESTATECORRUPT | typeof ESTATELOCKED | typeof ESTATEPERM | typeof ESTATEIO;
