/**
 * Plugin metadata carried as properties of the plugin function, so that a plugin file needs no import
 * of extpoint: `priority` (integer 0..100, default 100, lower runs first) and `depends` (the names of
 * plugin modules it needs).
 */
import { describe, isModuleName } from './naming.js';
import { checkOptions } from './options.js';
import { isPoint, type Point, type PluginFor } from './points.js';
import type { CheckedOptions } from './plugin-checks.js';
import type { PluginContext } from './types.js';

export const DEFAULT_PRIORITY = 100;
/** The most modules one plugin may depend on. */
export const MAX_DEPENDS = 1_000;

/** A plugin's validated metadata. */
export interface PluginMeta {
  readonly priority: number;
  readonly depends: readonly string[];
}

/** What a plugin function may carry. */
export interface PluginOptions {
  /** 0..100, default 100; lower runs first. */
  priority?: number;
  /** Plugin modules this plugin needs; it is held while any of them is missing or disabled. */
  depends?: readonly string[];
}

const DEFAULT_META: PluginMeta = Object.freeze({ priority: DEFAULT_PRIORITY, depends: Object.freeze([]) });

/**
 * Validates the metadata on `fn`; a string is the reason it is refused. Each property is read once and
 * `depends` is copied before it is checked, so a getter or a Proxy cannot show one value to the check and
 * another to the registry. Throws only what a getter or trap of the plugin's own throws.
 */
export function readPluginMeta(fn: Function, exportName: string): PluginMeta | string {
  const carried = fn as { priority?: unknown; depends?: unknown };
  const priority = carried.priority;
  const depends = carried.depends;
  if (priority === undefined && depends === undefined) return DEFAULT_META;
  if (priority !== undefined && !(Number.isInteger(priority) && (priority as number) >= 0 && (priority as number) <= 100)) {
    return `plugin "${exportName}" has priority ${describe(priority)}: a priority is an integer from 0 to 100 (lower runs first)`;
  }
  let names: unknown[] = [];
  if (depends !== undefined) {
    if (!Array.isArray(depends)) {
      return `plugin "${exportName}" has depends ${describe(depends)}: depends is an array of plugin module names`;
    }
    const length: unknown = (depends as unknown[]).length;
    if (typeof length !== 'number' || length > MAX_DEPENDS) {
      return `plugin "${exportName}" depends on ${describe(length)} modules: a plugin may depend on at most ${MAX_DEPENDS}`;
    }
    for (let i = 0; i < length; i++) names.push((depends as unknown[])[i]);
    for (const dep of names) {
      if (!isModuleName(dep)) {
        return `plugin "${exportName}" depends on ${describe(dep)}: each dependency is a module name (letters, digits, _ - . $)`;
      }
    }
  }
  return Object.freeze({
    priority: (priority as number | undefined) ?? DEFAULT_PRIORITY,
    depends: Object.freeze([...new Set(names as string[])]),
  });
}

/**
 * Attaches metadata to a plugin function, checked and typed; plain properties on the function work
 * the same without importing extpoint. Given a point from `definePoint` first, the function is checked
 * against the point's types. A literal `priority` outside 0..100, or a literal `depends` entry that is not a
 * module name, fails to compile; every value is checked again at run time.
 *
 * @example
 * export const billing_checkout_Plugin = definePlugin((order) => audit(order), { priority: 10, depends: ['ledger'] });
 * export const billing_checkout_Plugin = definePlugin(checkout, (order) => receiptFor(order), { priority: 10 });
 *
 * @throws TypeError when `fn` is not a function or an option is bad.
 */
export function definePlugin<A, R, S, F extends PluginFor<A, R, S>, const O extends PluginOptions = {}>(
  point: Point<A, R, S>,
  fn: F,
  options?: CheckedOptions<O>,
): F & PluginOptions;
export function definePlugin<F extends (args: any, context?: PluginContext) => unknown, const O extends PluginOptions = {}>(
  fn: F,
  options?: CheckedOptions<O>,
): F & PluginOptions;
export function definePlugin(first: unknown, second?: unknown, third?: unknown): Function & PluginOptions {
  const [fn, options] = isPoint(first) ? [second, third] : [first, second];
  if (typeof fn !== 'function') throw new TypeError(`extpoint: definePlugin needs a function, not ${describe(fn)}`);
  if (options !== undefined) checkOptions('definePlugin options', options, ['priority', 'depends']);
  const target = Object.assign(fn, options as PluginOptions | undefined);
  const checked = readPluginMeta(target, fn.name || 'plugin');
  if (typeof checked === 'string') throw new TypeError(`extpoint: ${checked}`);
  return target;
}
