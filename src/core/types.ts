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
  /**
   * Ends the call when aborted: plugins that have not settled (or not started) yield `EXIT` (`code:
   * 'EABORT'`), and each plugin gets `{ signal }` as its second argument.
   */
  signal?: AbortSignal;
}

/**
 * A plugin's second argument in a call given a `signal` (`callPlugins`, `call`, `pipe`); other calls pass
 * none. A plugin that can stop its work early listens to `signal`.
 */
export interface PluginContext {
  /** The call's signal, as given. */
  readonly signal: AbortSignal;
}

/** Options of `pipe`. */
export interface PipeOptions {
  /** Merged into the chain's own object result (its keys win); never seen by plugins. */
  private?: Record<string, unknown>;
  /** Run the chain, then return the original input. */
  returnInput?: boolean;
  /** As for `callPlugins`: a plugin that has not settled by then fails the chain. */
  timeoutMs?: number;
  /** Ends the chain when aborted: the step running (or next to run) yields an `EABORT` exit, and the input comes back. */
  signal?: AbortSignal;
}

/**
 * What a flag call did: `'applied'` to a plugin or point registered now, or `'pending'`: kept for a plugin
 * or point that is not registered now, and applied when it registers (a typo in a name looks like this).
 */
export type FlagOutcome = 'applied' | 'pending';

/** A flag kept for a plugin or point that is not registered now, as `report()` lists it. */
export interface PendingFlag {
  kind: 'plugin' | 'point';
  /** The plugin's export name (`billing_checkout_Plugin`), or the point's (`billing_checkout_Extension`). */
  fn: string;
  /** The plugin's own module, or the module the point belongs to. */
  module: string;
  node: string;
  /** What the flag says: enabled or disabled. */
  enabled: boolean;
}
