/**
 * Building a caller from source text (`new Function`), and knowing whether this process allows it.
 *
 * Every generated function gets source text of its own (a serial number in a leading comment). V8 keeps
 * a cache of functions built from strings, keyed by their text: two callers of the same shape (the same
 * number of plugins) would otherwise share one compiled function and its type feedback, so that after a
 * few reloads, or across points of the same size, each plugin's call site had seen many functions and
 * V8 stopped inlining them. With text of its own, each caller's call sites see only its own plugins.
 *
 * A process run with `--disallow-code-generation-from-strings` (or an embedder's equivalent) refuses
 * `new Function`; `canGenerate` finds that out once, and the callers fall back to closures.
 */

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

let serial = 0;

/**
 * `new Function(...params, body)`, with source text no other generated function has. Only called when
 * `canGenerate()` is true. Callers cast the result to their own factory type, as with `new Function`.
 */
export function generateFunction(params: readonly string[], body: string): Function {
  return new Function(...params, `// extpoint generated caller ${++serial}\n${body}`);
}
