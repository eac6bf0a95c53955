/**
 * Plugins that run somewhere else (a worker thread, another process): what the async callers (`call`,
 * `pipe`) need of the place they run, a *crossing node*, and how a plugin's code says that it runs there.
 * (Sync calls into such plugins: crossing.ts.)
 *
 * A node's plugin is registered with a proxy made by `crossingPlugin`: called on its own it crosses alone.
 * When a point's callers are compiled, the plugins whose code is such a proxy are grouped by node, and a
 * call hands each node all of its plugins for the point at once (`run`, one crossing out and one back),
 * a pipe each consecutive run of one node's plugins (`pipe`). Declared here, on the callers' floor, so
 * that the nodes (worker or remote) implement it without the callers knowing them.
 */
import type { PluginFn } from './slot.js';
import type { CrossingAnswer } from './crossing.js';

/** One plugin of a node, by its module and its export name. */
export interface CrossingEntry {
  readonly module: string;
  readonly fn: string;
}

/** One plugin call of a batch: `module` is the plugin's own module, `fn` its export name. */
export interface CrossingBatchCall {
  module: string;
  fn: string;
  args: unknown;
}

/**
 * The plugins of one node that a compiled caller runs, in call order. Made once per compile: a node may
 * remember it (by identity, or by `key`) so that a call carries only its arguments.
 */
export interface CrossingPlan {
  readonly entries: readonly CrossingEntry[];
  /** The entries as one string, equal for equal plans. */
  readonly key: string;
}

/**
 * The outcome of a run of pipe steps on one node: `ran` steps fulfilled in turn; then either the chain
 * went on to the end of the run (`data` the last state) or a step halted (`halted`, `data` the halt's
 * value, the step `ran - 1`), or step `ran` failed with `error`.
 */
export type CrossingPipeAnswer = { ok: true; ran: number; halted: boolean; data: unknown } | { ok: false; ran: number; error: unknown };

/** A place plugins run other than this thread, as the callers see it. */
export interface CrossingNode {
  readonly name: string;
  /** Runs a batch of plugin calls; one answer per entry, in order. Never rejects. */
  call(batch: CrossingBatchCall[]): Promise<CrossingAnswer[]>;
  /**
   * Runs every plugin of `plan` with the same `args` in one crossing; one answer per entry, in order.
   * Never rejects. Without it a call sends `call` one batch of the plan's entries.
   */
  run?(plan: CrossingPlan, args: unknown): Promise<CrossingAnswer[]>;
  /**
   * Runs the plugins of `plan` as consecutive pipe steps from `state` in one crossing. Never rejects.
   * Without it each step crosses on its own (and a step's halt cannot be told from its value).
   */
  pipe?(plan: CrossingPlan, state: unknown): Promise<CrossingPipeAnswer>;
}

/** A plugin proxy's node and entry. */
export interface NodeCrossing {
  readonly node: CrossingNode;
  readonly entry: CrossingEntry;
}

const crossings = new WeakMap<object, NodeCrossing>();

/**
 * The code a node's plugin is registered with: a function that crosses to `node` with its own call
 * (so that anything calling the plugin directly still reaches it), recognised by the compiled callers,
 * which batch it with the node's other plugins instead.
 */
export function crossingPlugin(node: CrossingNode, module: string, fn: string): PluginFn {
  const entry: CrossingEntry = { module, fn };
  const proxy: PluginFn = (args) =>
    node.call([{ module, fn, args }]).then((answers) => {
      const a = answers[0]!;
      if (a.ok) return a.data;
      throw a.error;
    });
  crossings.set(proxy, { node, entry });
  return proxy;
}

/** The node and entry of a plugin made by `crossingPlugin`, or undefined for in-process code. */
export function nodeCrossingOf(impl: unknown): NodeCrossing | undefined {
  return typeof impl === 'function' ? crossings.get(impl) : undefined;
}

/** A plan of `entries`. */
export function crossingPlan(entries: CrossingEntry[]): CrossingPlan {
  return { entries, key: entries.map((e) => `${e.module}\0${e.fn}`).join('\n') };
}

/** Runs `plan` on `node`: through its `run`, or as one batch. */
export function runPlan(node: CrossingNode, plan: CrossingPlan, args: unknown): Promise<CrossingAnswer[]> {
  if (node.run !== undefined) return node.run(plan, args);
  return node.call(plan.entries.map((e) => ({ module: e.module, fn: e.fn, args })));
}
