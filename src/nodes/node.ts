/**
 * One interface for every place plugins run: in-process (`local`), a worker thread, and later a remote
 * process. The host keeps flags, counters, holds and history; a node only runs plugin code. A call
 * crosses to a node as one batch (one message out, one back) and each entry gets its own answer.
 */
import { ExtpointError } from '../core/errors.js';
import type { CrossingAnswer } from '../calls/crossing.js';
import type { CrossingBatchCall, CrossingNode } from '../calls/crossing-node.js';

/** Where a node runs its plugins. */
export type NodeKind = 'local' | 'worker' | 'remote';

/** `up`: answering calls; `restarting`: crashed, a restart is scheduled; `down`: given up on (or stopped). */
export type NodeStatus = 'up' | 'restarting' | 'down';

/** One plugin call of a batch: `module` is the plugin's own module, `fn` its export name. */
export type NodeCall = CrossingBatchCall;

/** One entry's answer: what the plugin returned, or what it threw (or why the node could not run it). */
export type NodeAnswer = CrossingAnswer;

/** One row of `report().nodes`. */
export interface NodeRow {
  node: string;
  kind: NodeKind;
  status: NodeStatus;
  /** Plugins the node serves now. */
  plugins: number;
  /**
   * For a worker: crossings, the messages carrying plugin calls sent to it (one per call of a point, however
   * many of its plugins the node has; one per run of a pipe). For `local`: plugin results counted.
   */
  calls: number;
  /** Restarts by the supervisor since the extension was made. */
  restarts: number;
  /** The most recent reasons the node went down, oldest first (at most `REASONS_KEPT`). */
  lastReasons: string[];
  /** When its current run started; null while it is not up. */
  startedAt: Date | null;
  /**
   * With a `cluster` option only: NATS messages dropped because they did not parse or fit the protocol.
   * On a remote node's row, those about that node (and the requests the node says it dropped); on the
   * host's own row, those about no known node.
   */
  dropped?: number;
}

/** How many reasons a node row keeps. */
export const REASONS_KEPT = 5;

/** What `nodeUp` and `nodeDown` carry. */
export interface NodeEvent {
  node: string;
  /** For `nodeDown`: why it went down. */
  reason?: string;
  /** For `nodeDown`: `'restarting'` when a restart is scheduled, `'down'` when the supervisor gave up. */
  status?: NodeStatus;
}

/**
 * A place plugins run. A remote node implements the same, carrying batches over its own transport. As a
 * `CrossingNode` the compiled callers hand it all of its plugins of a point at once (`run`, `pipe`).
 */
export interface PluginNode extends CrossingNode {
  readonly name: string;
  readonly kind: NodeKind;
  readonly status: NodeStatus;
  /** Starts the node and loads its plugins; resolves once it answered (or failed) its first start. */
  start(): Promise<void>;
  /** Stops the node for good (until `start`); calls in flight answer `ENODEDOWN`. */
  stop(): Promise<void>;
  /** Starts the node again now, forgetting past restarts (after the supervisor gave up, say). */
  restart(): Promise<void>;
  /** Runs a batch of plugin calls; one answer per entry, in order. Never rejects. */
  call(batch: NodeCall[]): Promise<NodeAnswer[]>;
  /**
   * Runs a batch synchronously, every entry with `args`; one answer per entry, in order. Never throws.
   * Only nodes that can block for an answer have it (a worker node); the others answer sync calls
   * `EASYNC` through their async proxies.
   */
  callSync?(calls: readonly { module: string; fn: string }[], args: unknown): NodeAnswer[];
  /** Runs a module's health probe on the node. */
  health(module: string): Promise<unknown>;
  /** Adds `count` restarts a previous process recorded (from the state file) to the node's count. */
  adoptRestarts?(count: number): void;
  /** The node's report row (`plugins` filled in by the caller, who knows the registry). */
  row(): Omit<NodeRow, 'plugins'>;
}

/** What a node may do to the host: register what it loaded, and say when it goes up or down. */
export interface NodeHost {
  /** Registers a module the node loaded; false when it was refused (a load error is recorded). */
  install(node: string, name: string, plugins: RemotePlugin[], points: RemotePoint[], problems: RemoteProblem[], health: boolean, file: string | undefined): boolean;
  uninstall(node: string, name: string): void;
  loadError(node: string, error: { module?: string; file?: string; export?: string; message: string }): void;
  up(event: NodeEvent): void;
  down(event: NodeEvent): void;
}

/** A plugin as a node announces it: everything but its code. */
export interface RemotePlugin {
  fn: string;
  module: string;
  point: string;
  meta: { priority: number; depends: readonly string[] };
}
export interface RemotePoint {
  fn: string;
  point: string;
}
export interface RemoteProblem {
  export?: string;
  message: string;
}

/** The error of a node fault: an `ExtpointError` with its code. */
export function nodeError(code: 'ENODEDOWN' | 'ETIMEOUT' | 'EDATACLONE', message: string): Error {
  return new ExtpointError(code, message);
}
