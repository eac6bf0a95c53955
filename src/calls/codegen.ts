/**
 * Building a caller from source text (`new Function`), and knowing whether this process allows it.
 *
 * V8 caches functions built from strings by their text: two callers built from the same text share one
 * compiled function and its type feedback (what each call site has seen). Callers of the same shape used
 * to have the same text, so after a few reloads, or across points of the same size, each plugin's call
 * site had seen many different functions and V8 stopped inlining them. Now the text names the plugin
 * functions it calls (a number per function, in a leading comment): callers share compiled code exactly
 * when they call the very same functions in the same order (a flag turned off and on again, one plugin
 * serving many points), and new plugin code always gets call sites of its own.
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

/** A number for each plugin function a caller was generated for; held weakly. */
const ids = new WeakMap<object, number>();
let nextId = 0;

function idOf(fn: object): number {
  let id = ids.get(fn);
  if (id === undefined) ids.set(fn, (id = ++nextId));
  return id;
}

/**
 * `new Function(...params, body)`, its text marked with the identities of `plugins`, the functions the
 * generated code will call in that order. Only called when `canGenerate()` is true. Callers cast the
 * result to their own factory type, as with `new Function`.
 */
export function generateFunction(params: readonly string[], body: string, plugins: readonly object[]): Function {
  return new Function(...params, `// extpoint caller of plugins ${plugins.map(idOf).join(' ')}\n${body}`);
}
