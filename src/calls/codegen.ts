/**
 * Building a caller from source text (`new Function`), and knowing whether this process allows it.
 *
 * V8 caches functions built from strings by their text: two callers built from the same text share one
 * compiled function and its type feedback (what each call site has seen). Callers of the same shape used
 * to have the same text, so after a few reloads, or across points of the same size, each plugin's call
 * site had seen many different functions and V8 stopped inlining them. Now the text names the plugin
 * functions it calls (a number per function) and how many callers their point has had, in a leading
 * comment: every compile of a point gets call sites of its own, while points compiled alike from the very
 * same functions (one plugin serving many points) still share one compiled function.
 *
 * A process run with `--disallow-code-generation-from-strings` (or an embedder's equivalent) refuses
 * `new Function`; `canGenerate` finds that out once, and the callers fall back to closures.
 */

import type { PluginSlot } from './slot.js';

let allowed: boolean | undefined;

/** True when this process may build functions from strings; tried once, on first use. */
export function canGenerate(): boolean {
  if (allowed === undefined) {
    try {
      allowed = typeof new Function('return 0') === 'function';
    } catch {
      allowed = false;
    }
  }
  return allowed;
}

/** A number for each plugin function a caller was generated for; held weakly. */
const ids = new WeakMap<object, number>();
let nextId = 0;

function idOf(fn: object): number {
  let id = ids.get(fn);
  if (id === undefined) ids.set(fn, (id = ++nextId));
  return id;
}

/** How many callers each point has had generated; held weakly. */
const generations = new WeakMap<object, number>();

/**
 * `new Function(...params, body)` for a caller of `slots` (non-empty, in call order), its text marked with
 * the identities of the plugin functions it calls and with how many callers their point has had. Only
 * called when `canGenerate()` is true. Callers cast the result to their own factory type, as with
 * `new Function`.
 */
export function generateFunction(params: readonly string[], body: string, slots: readonly PluginSlot[]): Function {
  const point = slots[0]!.point;
  const generation = (generations.get(point) ?? 0) + 1;
  generations.set(point, generation);
  const plugins = slots.map((s) => idOf(s.impl as object)).join(' ');
  return new Function(...params, `// extpoint caller ${generation} of a point, plugins ${plugins}\n${body}`);
}
