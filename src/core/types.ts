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

/** Options of `pipe`. */
export interface PipeOptions {
  /** Merged into the chain's own object result (its keys win); never seen by plugins. */
  private?: Record<string, unknown>;
  /** Run the chain, then return the original input. */
  returnInput?: boolean;
  /** As for `callPlugins`: a plugin that has not settled by then fails the chain. */
  timeoutMs?: number;
}
