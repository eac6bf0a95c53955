/**
 * Halting a pipeline: a plugin returns `halt(value)` to stop the chain with `value` as its result. A plain
 * object with the key `Symbol.for('extpoint.halt')` does the same, so plugin files need no import.
 */

/** The key that marks a halt; registered globally so that plugins can build one without extpoint. */
export const HALT: unique symbol = Symbol.for('extpoint.halt') as never;

/** What a plugin returns to stop a pipeline. */
export interface Halt<T = unknown> {
  readonly [HALT]: T;
}

/** Stops the pipeline this plugin runs in; `pipe` then returns `value`. */
export function halt<T>(value: T): Halt<T> {
  return { [HALT]: value };
}
