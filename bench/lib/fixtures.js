/**
 * Plugins and hosts shared by the cases, so every contestant runs the very same plugin functions.
 *
 * Each plugin is its own function made from its own source text (`new Function`), as separately loaded
 * plugins would be: one call site that sees ten of them sees ten different functions, not one closure.
 */
import { createExtension } from '../../dist/index.js';

/** The argument every call passes. */
export const ARGS = Object.freeze({ n: 1 });

/** `count` different sync plugins; plugin i returns `a.n + i`. */
export function syncPlugins(count) {
  return Array.from({ length: count }, (_, i) => new Function(`return function plugin${i}(a) { return a.n + ${i}; };`)());
}

/** `count` different async plugins; plugin i resolves to `a.n + i`. */
export function asyncPlugins(count) {
  return Array.from(
    { length: count },
    (_, i) => new Function(`return async function plugin${i}(a) { return a.n + ${i}; };`)(),
  );
}

/** `count` different pipeline steps; step i returns `s + i`. */
export function pipeSteps(count) {
  return Array.from({ length: count }, (_, i) => new Function(`return function step${i}(s) { return s + ${i}; };`)());
}

/** `count` sync plugins of which the one at `failing` throws a new Error on every call. */
export function pluginsFailingAt(count, failing) {
  const fns = syncPlugins(count);
  fns[failing] = new Function(`return function plugin${failing}(a) { throw new Error('plugin ${failing} fails'); };`)();
  return fns;
}

/** Module names that sort in creation order: plug0000, plug0001, ... */
export function pluginModule(i) {
  return `plug${String(i).padStart(5, '0')}`;
}

/**
 * An extension with the point `host.p` declared and one plugin module per function, in the given order.
 * Loaded-module scanning is off: the bench registers everything itself.
 */
export function extensionWith(fns, { module = 'host', point = 'p' } = {}) {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule(module, { [`${module}_${point}_Extension`]: (args) => ext.callPluginsSync(module, point, args) });
  fns.forEach((fn, i) => ext.registerModule(pluginModule(i), { [`${module}_${point}_Plugin`]: fn }));
  return ext;
}

/**
 * How many plugins one call of `call(args)` ran: each plugin reads `args.n` once, so a probe whose `n`
 * is a counting getter tells. Used to check that a contestant does the work it claims before timing it.
 */
export function countPluginCalls(call) {
  let reads = 0;
  const probe = {
    get n() {
      reads++;
      return 1;
    },
  };
  call(probe);
  return reads;
}

/** As `countPluginCalls`, for a call that returns a promise: awaits it before counting. */
export async function countPluginCallsAsync(call) {
  let reads = 0;
  const probe = {
    get n() {
      reads++;
      return 1;
    },
  };
  await call(probe);
  return reads;
}

/**
 * Ten different sync plugins written out as function literals (plugin i returns `a.n + i`), for
 * processes that forbid code generation from strings, where `syncPlugins` cannot build its own.
 */
export function literalPlugins() {
  return [
    function plugin0(a) { return a.n + 0; },
    function plugin1(a) { return a.n + 1; },
    function plugin2(a) { return a.n + 2; },
    function plugin3(a) { return a.n + 3; },
    function plugin4(a) { return a.n + 4; },
    function plugin5(a) { return a.n + 5; },
    function plugin6(a) { return a.n + 6; },
    function plugin7(a) { return a.n + 7; },
    function plugin8(a) { return a.n + 8; },
    function plugin9(a) { return a.n + 9; },
  ];
}

/** Ten different pipeline steps written out as function literals (step i returns `s + i`). */
export function literalSteps() {
  return [
    function step0(s) { return s + 0; },
    function step1(s) { return s + 1; },
    function step2(s) { return s + 2; },
    function step3(s) { return s + 3; },
    function step4(s) { return s + 4; },
    function step5(s) { return s + 5; },
    function step6(s) { return s + 6; },
    function step7(s) { return s + 7; },
    function step8(s) { return s + 8; },
    function step9(s) { return s + 9; },
  ];
}
