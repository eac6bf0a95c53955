/**
 * The worker nodes of one extension: made from its `pluginDirs` entries, started and stopped with it, and
 * the bridge between what a node announces and the registry: a plugin on a node is registered in the
 * host with a proxy that crosses to the node and returns a promise, which the compiled callers of a
 * point recognise and batch with the node's other plugins (see calls/crossing.ts).
 */
import type { Declarations, PluginDeclaration } from '../core/declarations.js';
import type { NodeHost, NodeRow, PluginNode, RemotePlugin, RemotePoint, RemoteProblem } from './node.js';
import { WorkerNode, type WorkerNodeSettings } from './worker-node.js';
import { describe } from '../core/naming.js';
import { markCrossing, type SyncTarget } from '../calls/crossing.js';
import { crossingPlugin } from '../calls/crossing-node.js';
import type { Registry } from '../registry/registry.js';
import type { ClusterSettings } from '../cluster/settings.js';
import { RemoteCluster } from './remote-cluster.js';

export class Nodes {
  private readonly nodes = new Map<string, PluginNode>();
  /** The host's cluster membership, with a `cluster` option; its remote nodes join `nodes` as they are heard of. */
  readonly cluster: RemoteCluster | null;

  constructor(settings: readonly WorkerNodeSettings[], private readonly host: NodeHost, cluster: ClusterSettings | null = null, localNode = 'local') {
    this.addWorkers(settings);
    this.cluster =
      cluster === null
        ? null
        : new RemoteCluster(cluster, localNode, { taken: (name) => name === localNode || this.nodes.has(name), add: (node) => this.nodes.set(node.name, node) }, host);
  }

  /** Adds worker nodes (from `start(options)` of an instance made with only a cluster). */
  addWorkers(settings: readonly WorkerNodeSettings[]): void {
    for (const s of settings) {
      if (this.nodes.has(s.name)) {
        throw new TypeError(`extpoint: two pluginDirs entries name node "${s.name}"; give each worker folder its own node name`);
      }
      this.nodes.set(s.name, new WorkerNode(s, this.host));
    }
  }

  /** How many worker nodes there are. */
  get workers(): number {
    let n = 0;
    for (const node of this.nodes.values()) if (node.kind === 'worker') n++;
    return n;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Starts every node; resolves when each has loaded its folder (or failed its first start). */
  async start(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.start()));
    await this.cluster?.start();
  }

  /** Stops every node and waits for their workers to end. */
  async stop(): Promise<void> {
    await this.cluster?.stop();
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
  }

  /**
   * Starts node `name` again now, forgetting its past restarts.
   *
   * @throws TypeError for a node this extension does not have.
   */
  restart(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (node === undefined) {
      const known = [...this.nodes.keys()].map((n) => `"${n}"`).join(', ') || 'none';
      return Promise.reject(new TypeError(`extpoint: restartNode(${describe(name)}): no worker node of that name (worker nodes: ${known})`));
    }
    return node.restart();
  }

  /** Takes over the restart counts a state file kept, by node name (names not here are ignored). */
  adoptRestarts(counts: Readonly<Record<string, number>>): void {
    for (const [name, count] of Object.entries(counts)) this.nodes.get(name)?.adoptRestarts?.(count);
  }

  get(name: string): PluginNode | undefined {
    return this.nodes.get(name);
  }

  /** One report row per node, `pluginsOf` counting each one's plugins in the registry. */
  rows(pluginsOf: (node: string) => number): NodeRow[] {
    return [...this.nodes.values()].map((n) => ({ ...n.row(), plugins: pluginsOf(n.name) }));
  }
}

/** The declarations a node announced, with proxies for code: each call crosses to the node. */
export function remoteDeclarations(
  node: PluginNode,
  name: string,
  plugins: RemotePlugin[],
  points: RemotePoint[],
  problems: RemoteProblem[],
  health: boolean,
): Declarations {
  const decls: Declarations = {
    plugins: plugins.map((p): PluginDeclaration => ({ ...p, impl: proxy(node, name, p.fn) })),
    points,
    problems,
  };
  if (health) decls.health = () => node.health(name);
  return decls;
}

/**
 * A node plugin's code: a proxy that crosses on its own when called, and that the compiled callers batch
 * with the node's other plugins (calls/crossing-node.ts); a node that can block for answers also takes
 * sync calls in batches (calls/crossing.ts).
 */
function proxy(node: PluginNode, module: string, fn: string): (args: unknown) => unknown {
  const call = crossingPlugin(node, module, fn);
  if (node.callSync !== undefined) markCrossing(call, { node: node as SyncTarget, module, fn });
  return call;
}

/**
 * A plugin flag call made before a module first registered could not know the module's node, so it was
 * kept for the extension's own node. When the module registers on worker node `node`, such a disable
 * flag is carried over (unless the node's slot has a flag of its own), so that it applies as it would have.
 */
export function adoptEarlyFlags(registry: Registry, name: string, plugins: RemotePlugin[], localNode: string, node: string): void {
  for (const p of plugins) {
    const point = registry.peek(p.module, p.point);
    if (point === undefined) continue;
    let early = false;
    let own = false;
    for (const slot of point.slots.values()) {
      if (slot.info.module !== name) continue;
      if (slot.info.node === node) own = true;
      else if (slot.info.node === localNode && slot.impl === null && !slot.enabled) early = true;
    }
    if (early && !own) registry.setPluginEnabled(name, p.module, p.point, false, node);
  }
}
