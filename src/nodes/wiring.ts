/**
 * Worker nodes wired to the registry: what a node's announcements do there (its modules register under
 * the node's name, never over another node's module of the same name), and one report row per node,
 * this extension's own first.
 */
import type { Registry } from '../registry/registry.js';
import type { ModuleInstaller } from '../registry/module-installer.js';
import { Nodes, adoptEarlyFlags, remoteDeclarations } from './nodes.js';
import type { NodeEvent, NodeRow } from './node.js';
import type { WorkerNodeSettings } from './worker-node.js';
import type { ClusterSettings } from '../cluster/settings.js';

export interface NodeWiring {
  registry: Registry;
  installer: ModuleInstaller;
  /** This extension's own node name. */
  localNode: string;
  up(event: NodeEvent): void;
  down(event: NodeEvent): void;
}

/**
 * The worker nodes `settings` ask for, and the remote nodes of `cluster`, registering what they load
 * through `wiring`; null for none.
 */
export function wireNodes(settings: WorkerNodeSettings[], wiring: NodeWiring, cluster: ClusterSettings | null = null): Nodes | null {
  if (settings.length === 0 && cluster === null) return null;
  const { registry, installer, localNode } = wiring;
  const nodes: Nodes = new Nodes(settings, {
    install: (node, name, plugins, points, problems, health, file) => {
      const previous = registry.modules.get(name);
      if (previous !== undefined && previous.node !== node) {
        installer.loadError({ module: name, file, message: `module "${name}" of node "${node}" is refused: node "${previous.node}" already has a module of that name` });
        return false;
      }
      const worker = nodes.get(node);
      if (worker === undefined) return false;
      if (previous === undefined) adoptEarlyFlags(registry, name, plugins, localNode, node);
      return installer.install(name, remoteDeclarations(worker, name, plugins, points, problems, health), 'folder', file, node);
    },
    uninstall: (node, name) => {
      if (registry.modules.get(name)?.node === node) installer.uninstall(name);
    },
    loadError: (node, error) => installer.loadError({ ...error, message: `node "${node}": ${error.message}` }),
    up: (event) => wiring.up(event),
    down: (event) => wiring.down(event),
  }, cluster, localNode);
  return nodes;
}

/** One row per node: this extension's own (`startedAt` its last start), then its worker nodes. */
export function nodeRows(registry: Registry, localNode: string, startedAt: Date | null, nodes: Nodes | null): NodeRow[] {
  const plugins = new Map<string, number>();
  let localCalls = 0;
  for (const record of registry.modules.values()) {
    plugins.set(record.node, (plugins.get(record.node) ?? 0) + record.plugins.length);
    if (record.node === localNode) for (const slot of record.plugins) localCalls += slot.ok + slot.exit;
  }
  const local: NodeRow = {
    node: localNode,
    kind: 'local',
    status: 'up',
    plugins: plugins.get(localNode) ?? 0,
    calls: localCalls,
    restarts: 0,
    lastReasons: [],
    startedAt,
  };
  if (nodes?.cluster) local.dropped = nodes.cluster.dropped;
  return [local, ...(nodes?.rows((n) => plugins.get(n) ?? 0) ?? [])];
}
