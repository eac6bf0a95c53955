/**
 * What extpoint publishes on its tracing channels (see channels.ts): one object per call and one per
 * plugin run, the same object passed to every event of that call or run, filled in as it goes.
 */
import type { PluginResult } from '../core/types.js';

/** The kinds of call: `callPluginsSync`/`callSync`, `notify`, `callPlugins`/`call`, `pipe`. */
export type CallKind = 'callSync' | 'notify' | 'call' | 'pipe';

/**
 * The message of `extpoint:call`: one call of one point. `start` sees the names and `args`; `end` (sync
 * kinds) or `asyncEnd` (`call`, `pipe`) sees `results` or `result`; `error` sees `error` when the call
 * itself threw or rejected (a refused call: too deep, too many in flight, bad options). Plugin failures are
 * not call errors: they are `EXIT` entries of `results`.
 */
export interface CallTrace {
  kind: CallKind;
  /** The module that owns the point. */
  module: string;
  /** The point's name. */
  point: string;
  /** The node of the extension that made the call. */
  node: string;
  /** The call's argument (`pipe`: the initial state). */
  args: unknown;
  /** `callSync` and `call`: one result per plugin, set at `end` (sync) or `asyncEnd` (async). */
  results?: PluginResult[];
  /** What the call returned: the results array, `undefined` for `notify`, the final state for `pipe`. */
  result?: unknown;
  /** Set, with `error` published, when the call threw or its promise rejected. */
  error?: unknown;
}

/** A plugin run's outcome as the plugin gave it: `ok` with `result`, `EXIT` with `error`. */
export type TraceState = 'ok' | 'EXIT';

/**
 * The message of `extpoint:plugin`: one plugin run inside a call. `start` before the plugin is called;
 * `end` when it returned (or threw, after `error`); for a plugin that returned a promise to an async call,
 * `asyncStart` and `asyncEnd` when that promise settled (after `error` if it rejected). `state` and
 * `result` or `error` are set before the event that ends the run (`end`, or `asyncEnd` for a promise).
 */
export interface PluginTrace {
  kind: CallKind;
  /** The module that owns the point. */
  module: string;
  point: string;
  /** The plugin's export name (`<module>_<point>_Plugin`). */
  plugin: string;
  /** The module that exports the plugin. */
  pluginModule: string;
  /** The node the plugin runs on. */
  node: string;
  args: unknown;
  /** Undefined while a promise is pending. */
  state?: TraceState;
  /** The plugin's value (for a promise: what it fulfilled with). */
  result?: unknown;
  /** What the plugin threw or its promise rejected with; for a promise returned to a sync call, `EASYNC`. */
  error?: unknown;
}
