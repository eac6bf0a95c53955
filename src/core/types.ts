/** The public shapes a call returns and takes. */

/** Who answered: the node, the plugin's own module and its export name, as in the origin's `{Node, Module, Function}`. */
export interface PluginInfo {
  readonly node: string;
  readonly module: string;
  readonly fn: string;
}

/** One plugin's answer to a call: `ok` with what it returned, or `EXIT` with what it threw. */
export type PluginResult<T = unknown> =
  | { state: 'ok'; info: PluginInfo; data: T }
  | { state: 'EXIT'; info: PluginInfo; data: unknown };

/** Options of an asynchronous call. */
export interface CallOptions {
  /** A plugin that has not settled this many milliseconds after it was called yields `EXIT` (`code: 'ETIMEOUT'`). */
  timeoutMs?: number;
  /** Start every plugin at once instead of one after another; results stay in plugin order. */
  parallel?: boolean;
}
