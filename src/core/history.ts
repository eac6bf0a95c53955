/**
 * Bounded history: a ring that keeps the most recent entries, and the records the report shows
 * (exit reasons, terminate reasons, load errors).
 */

/** Keeps the `capacity` most recent items, oldest first. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /** The kept items, oldest first. */
  toArray(): T[] {
    return this.items.slice(this.next).concat(this.items.slice(0, this.next));
  }
}

/** How many exit reasons each plugin keeps. */
export const EXITS_KEPT = 10;
/** How many terminate reasons and load errors the framework keeps. */
export const TERMINATES_KEPT = 100;
export const LOAD_ERRORS_KEPT = 100;

/** One recorded failure of a plugin: its running exit number `n`, what it threw, and when. */
export interface ExitRecord {
  n: number;
  reason: unknown;
  at: Date;
}

/** One `stop()` or `restart()` of the framework. */
export interface TerminateReason {
  n: number;
  reason: unknown;
  at: Date;
}

/** A module, file or export that could not be registered, and why. */
export interface LoadError {
  /** The module name, where known. */
  module?: string;
  /** The file the module came from, where known. */
  file?: string;
  /** The export at fault, where one is. */
  export?: string;
  message: string;
  at: Date;
}

/** How many operator actions (panel clicks, say) the framework keeps. */
export const ACTIONS_KEPT = 50;

/**
 * One state-changing action an operator took through a tool (the web panel): `source` names the tool,
 * `action` the call (`disablePlugin`, `health`), `target` what it was applied to, `outcome` what came of
 * it (`applied`, `pending`, `healthy`, or the error's message).
 */
export interface OperatorAction {
  n: number;
  source: string;
  action: string;
  target: string;
  outcome: string;
  at: Date;
}
