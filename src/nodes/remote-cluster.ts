/**
 * A host's membership of a cluster: one NATS connection, joined by `start()` and left by `stop()`, that
 * hears every node's announcements, heartbeats and byes, makes a `RemoteNode` for each node it hears
 * of, and checks their heartbeats. Messages that do not parse or fit are dropped and counted: on the
 * node's row when the subject names a known node, on the host's own row otherwise.
 */
import type { NatsConnection, Subscription } from 'nats';
import { connectCluster } from '../cluster/connection.js';
import type { ClusterSettings } from '../cluster/settings.js';
import { pack, parseAnnounce, parseBye, parseHeartbeat, PROTOCOL_VERSION, subjects, type Subjects } from '../cluster/protocol.js';
import { RemoteNode, type RemoteLink } from './remote-node.js';
import type { NodeHost, PluginNode } from './node.js';

/** What the cluster needs from the host's node table. */
export interface NodeTable {
  /** True when `name` is the host's own node or one of its worker nodes. */
  taken(name: string): boolean;
  add(node: PluginNode): void;
}

export class RemoteCluster implements RemoteLink {
  readonly subjects: Subjects;
  readonly callTimeoutMs: number;
  /** Messages about no known node that were dropped. */
  dropped = 0;
  private nc: NatsConnection | null = null;
  private subs: Subscription[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly remotes = new Map<string, RemoteNode>();
  private readonly clashes = new Set<string>();

  constructor(
    readonly settings: ClusterSettings,
    private readonly label: string,
    private readonly table: NodeTable,
    private readonly host: NodeHost,
  ) {
    this.subjects = subjects(settings.name);
    this.callTimeoutMs = settings.callTimeoutMs;
  }

  connection(): NatsConnection | null {
    return this.nc;
  }

  /** Joins the cluster and asks every node to announce itself. @throws Error when NATS cannot be reached. */
  async start(): Promise<void> {
    if (this.nc !== null) return;
    const nc = await connectCluster(this.settings, this.label);
    this.nc = nc;
    for (const remote of this.remotes.values()) await remote.start();
    for (const kind of ['announce', 'heartbeat', 'bye'] as const) {
      this.subs.push(nc.subscribe(this.subjects.every(kind), { callback: (err, msg) => err === null && this.heard(msg.subject, msg.data) }));
    }
    void this.followStatus(nc);
    const every = Math.max(10, Math.min(250, Math.floor(this.settings.heartbeatMs / 2)));
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const remote of this.remotes.values()) remote.check(now);
    }, every);
    this.timer.unref();
    nc.publish(this.subjects.discover, pack({ v: PROTOCOL_VERSION, t: 'discover' }));
    await nc.flush();
  }

  /** Leaves the cluster: remote nodes are shown down, their calls in flight answer `ENODEDOWN`. */
  async stop(): Promise<void> {
    const nc = this.nc;
    if (nc === null) return;
    this.nc = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.subs = [];
    for (const remote of this.remotes.values()) await remote.stop();
    await nc.drain().catch(() => nc.close());
  }

  /** After a reconnect (a restarted server), nodes are asked to announce themselves again. */
  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'reconnect' && this.nc === nc) nc.publish(this.subjects.discover, pack({ v: PROTOCOL_VERSION, t: 'discover' }));
    }
  }

  private heard(subject: string, data: Uint8Array): void {
    const where = this.subjects.parse(subject);
    if (where === null) {
      this.dropped++;
      return;
    }
    const { node, kind } = where;
    let remote = this.remotes.get(node);
    if (kind === 'announce') {
      const a = parseAnnounce(data, node);
      if (a === null) return this.drop(remote);
      remote ??= this.adopt(node);
      remote?.announced(a);
    } else if (kind === 'heartbeat') {
      const h = parseHeartbeat(data, node);
      if (h === null) return this.drop(remote);
      remote ??= this.adopt(node);
      remote?.heartbeat(h);
    } else {
      const b = parseBye(data, node);
      if (b === null) return this.drop(remote);
      remote?.bye(b.instance, b.reason);
    }
  }

  private drop(remote: RemoteNode | undefined): void {
    if (remote === undefined) this.dropped++;
    else remote.dropped++;
  }

  /** A node heard of for the first time; undefined when its name is taken by a node of another kind. */
  private adopt(name: string): RemoteNode | undefined {
    if (this.table.taken(name)) {
      this.dropped++;
      if (!this.clashes.has(name)) {
        this.clashes.add(name);
        this.host.loadError(name, { message: `a remote node is named "${name}" like this host's own node or one of its worker nodes; its messages are ignored: give it another --name` });
      }
      return undefined;
    }
    const remote = new RemoteNode(name, this, this.host);
    this.remotes.set(name, remote);
    this.table.add(remote);
    return remote;
  }
}
