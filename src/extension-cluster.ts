/**
 * What the `cluster` option gives an extension's flags: a NATS connection of their own, made by `start()`
 * before any module is scanned (the remote nodes' connection comes later, in `nodes.start()`) and closed
 * by `stop()`, and the flags replicated through the cluster's key-value bucket.
 */
import type { NatsConnection } from 'nats';
import type { ClusterSettings } from './cluster/settings.js';
import type { Registry } from './registry/registry.js';
import { ClusterFlags, type ClusterFlagsHooks } from './state/cluster-flags.js';
import type { FlagRef } from './state/flag-keys.js';

/** How long `stop()` waits for flag changes still being written before it closes the connection. */
const STOP_SETTLE_MS = 2_000;

export class ClusterLink {
  readonly flags: ClusterFlags;
  private connection: NatsConnection | null = null;

  /** `settings`: the `cluster` option, checked. */
  constructor(readonly settings: ClusterSettings, registry: Registry, private readonly node: string, hooks: ClusterFlagsHooks) {
    this.flags = new ClusterFlags(registry, this.settings.name, node, hooks);
  }

  /** Connects and attaches the flags (their bucket is applied to the registry when this resolves). */
  async start(): Promise<void> {
    if (this.connection !== null) return;
    // Loaded here, not at import: a host without a cluster never loads the NATS client.
    const { connectCluster } = await import('./cluster/connection.js');
    const nc = await connectCluster(this.settings, `${this.node}/flags`);
    let attached: boolean;
    try {
      attached = await this.flags.attach(nc);
    } catch (e) {
      await nc.close();
      throw e;
    }
    if (!attached) return void (await nc.close());
    this.connection = nc;
  }

  /** Writes what flag changes it can within a short wait, detaches and closes the connection. */
  async stop(): Promise<void> {
    const nc = this.connection;
    if (nc === null) return;
    this.connection = null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flags.settled(), new Promise<void>((done) => (timer = setTimeout(done, STOP_SETTLE_MS)))]);
    clearTimeout(timer);
    this.flags.detach();
    await nc.close();
  }

  changed(ref: FlagRef): void {
    this.flags.changed(ref);
  }
}
