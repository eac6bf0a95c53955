/**
 * A remote plugin node: a process that loads plugin folders (with hot reload) and serves them to the
 * hosts of a cluster over NATS, by the protocol in cluster/protocol.ts. Flags, counters and history are
 * the hosts'; this side only keeps the functions, runs calls and says what it has.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Msg, NatsConnection } from 'nats';
import { PluginFolders } from './modules/folder.js';
import { readExports, type Declarations } from './core/declarations.js';
import { checkOptions } from './core/options.js';
import { describe } from './core/naming.js';
import { errorText } from './core/thrown.js';
import { clusterSettings, type ClusterOptions } from './cluster/settings.js';
import { connectCluster } from './cluster/connection.js';
import { CodecError, decodeValue, encodeValue, type Wire } from './cluster/codec.js';
import {
  checkNodeName,
  isDiscover,
  pack,
  parsePong,
  parseRequest,
  PROTOCOL_VERSION,
  subjects,
  type Announce,
  type WireAnswer,
  type WireLoadError,
  type WireModule,
} from './cluster/protocol.js';

/** Options of `serveNode`. */
export interface ServeNodeOptions extends Pick<ClusterOptions, 'servers' | 'token' | 'creds' | 'heartbeatMs'> {
  /** The node's name in the cluster: shown as `info.node` on hosts. Letters, digits, `_` and `-`. */
  name: string;
  /** The plugin folders this node loads and serves. */
  pluginDirs: readonly string[];
  /** The cluster's name (subjects are namespaced by it). Default `'extpoint'`. */
  cluster?: string;
  /** Whether the folders are watched (hot reload reaches hosts within a second). Default true. */
  watch?: boolean;
  /** As `createExtension`'s `checkPermissions`. Default true. */
  checkPermissions?: boolean;
}

/** A serving node. */
export interface NodeService {
  readonly name: string;
  readonly cluster: string;
  /** Random per process; hosts see a new one as a restart. */
  readonly instance: string;
  /** Modules loaded now. */
  modules(): string[];
  /** Requests answered, and messages dropped because they did not parse or fit the protocol. */
  stats(): { requests: number; dropped: number };
  /** Says bye to the hosts, stops watching, and leaves the cluster. */
  close(): Promise<void>;
}

const KEYS = ['servers', 'token', 'creds', 'heartbeatMs', 'name', 'pluginDirs', 'cluster', 'watch', 'checkPermissions'] as const;
/** How long a starting node waits for another process answering its name. */
const PING_MS = 500;
/** Announcements of a burst of file changes go out together after this many milliseconds. */
const ANNOUNCE_DELAY_MS = 20;

/**
 * Serves `pluginDirs` as node `name` of a cluster; resolves once the folders are loaded and the node
 * announced itself.
 *
 * @throws TypeError for bad options; Error when NATS cannot be reached or the name is already served.
 */
export async function serveNode(options: ServeNodeOptions): Promise<NodeService> {
  checkOptions('serveNode options', options, KEYS);
  const name = checkNodeName(options.name, 'serveNode name');
  const { pluginDirs } = options;
  if (!Array.isArray(pluginDirs) || pluginDirs.length === 0 || pluginDirs.some((d) => typeof d !== 'string' || d.length === 0)) {
    throw new TypeError(`extpoint: serveNode pluginDirs must be an array of one or more folder paths, not ${describe(pluginDirs)}`);
  }
  for (const key of ['watch', 'checkPermissions'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new TypeError(`extpoint: serveNode ${key} must be true or false, not ${describe(options[key])}`);
  }
  const cluster: ClusterOptions = { servers: options.servers };
  if (options.cluster !== undefined) cluster.name = options.cluster;
  if (options.token !== undefined) cluster.token = options.token;
  if (options.creds !== undefined) cluster.creds = options.creds;
  if (options.heartbeatMs !== undefined) cluster.heartbeatMs = options.heartbeatMs;
  const settings = clusterSettings(cluster);
  const nc = await connectCluster(settings, `node:${name}`);
  try {
    return await new NodeServer(nc, name, settings.name, settings.heartbeatMs, [...pluginDirs], options).open();
  } catch (e) {
    await nc.close();
    throw e;
  }
}

class NodeServer implements NodeService {
  readonly instance = randomUUID();
  private readonly subjects;
  private readonly decls = new Map<string, Declarations>();
  private readonly wired = new Map<string, WireModule>();
  private readonly loadErrors = new Map<string, WireLoadError>();
  private seq = 1;
  private requests = 0;
  private dropped = 0;
  private announceTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private ready = false;
  private closed = false;
  private readonly folders: PluginFolders;

  constructor(
    private readonly nc: NatsConnection,
    readonly name: string,
    readonly cluster: string,
    private readonly heartbeatMs: number,
    dirs: string[],
    options: ServeNodeOptions,
  ) {
    this.subjects = subjects(cluster);
    this.folders = new PluginFolders(
      {
        read: (module, exports) => readExports(module, exports),
        install: (module, decls, _origin, file) => {
          this.decls.set(module, decls);
          this.wired.set(module, wireModule(module, decls, file));
          if (file !== undefined) this.loadErrors.delete(file);
          this.changed();
          return true;
        },
        uninstall: (module) => {
          const had = this.decls.delete(module);
          this.wired.delete(module);
          if (had) this.changed();
          return had;
        },
        loadError: (error) => {
          this.loadErrors.set(error.file ?? error.module ?? error.message, { ...error });
          this.changed();
        },
        originOf: (module) => (this.decls.has(module) ? 'folder' : undefined),
      },
      { dirs, watch: options.watch ?? true, checkPermissions: options.checkPermissions ?? true },
    );
  }

  async open(): Promise<this> {
    // Another process answering this name's subject means the name is taken.
    const callSubject = this.subjects.call(this.name);
    try {
      const reply = await this.nc.request(callSubject, pack({ v: PROTOCOL_VERSION, t: 'ping' }), { timeout: PING_MS });
      const pong = parsePong(reply.data, this.name);
      const who = pong === null ? 'a process that does not speak the protocol' : `process ${pong.pid} on ${pong.hostname}`;
      throw new Error(
        `extpoint: a node named "${this.name}" already serves cluster "${this.cluster}" (${who} answers on ${callSubject}); ` +
          'give this node another --name, or stop the other one first',
      );
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== '503' && code !== 'TIMEOUT') throw e;
    }
    this.nc.subscribe(callSubject, { callback: (err, msg) => err === null && this.request(msg) });
    this.nc.subscribe(this.subjects.discover, {
      callback: (err, msg) => {
        if (err !== null) return;
        if (isDiscover(msg.data)) this.publishAnnounce();
        else this.dropped++;
      },
    });
    await this.folders.start();
    this.ready = true;
    this.publishAnnounce();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    void this.followStatus();
    await this.nc.flush();
    return this;
  }

  modules(): string[] {
    return [...this.decls.keys()];
  }

  stats(): { requests: number; dropped: number } {
    return { requests: this.requests, dropped: this.dropped };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.announceTimer !== null) clearTimeout(this.announceTimer);
    await this.folders.stop();
    try {
      this.nc.publish(this.subjects.bye(this.name), pack({ v: PROTOCOL_VERSION, t: 'bye', node: this.name, instance: this.instance, reason: 'closed' }));
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }

  // -------------------------------------------------------------------------------------------------

  private async followStatus(): Promise<void> {
    for await (const s of this.nc.status()) if (s.type === 'reconnect' && !this.closed) this.publishAnnounce();
  }

  /** A plugin changed: the announcement goes out shortly, once for a burst of changes. */
  private changed(): void {
    if (!this.ready || this.closed || this.announceTimer !== null) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      this.seq++;
      this.publishAnnounce();
    }, ANNOUNCE_DELAY_MS);
  }

  private announcement(): Announce {
    return {
      v: PROTOCOL_VERSION,
      t: 'announce',
      node: this.name,
      instance: this.instance,
      seq: this.seq,
      heartbeatMs: this.heartbeatMs,
      modules: [...this.wired.values()],
      loadErrors: [...this.loadErrors.values()],
    };
  }

  private publishAnnounce(): void {
    if (this.closed || !this.ready) return;
    try {
      this.nc.publish(this.subjects.announce(this.name), pack(this.announcement()));
    } catch {
      // Closed or too large: hosts ask with describe after the next heartbeat.
    }
  }

  private heartbeat(): void {
    try {
      this.nc.publish(
        this.subjects.heartbeat(this.name),
        pack({ v: PROTOCOL_VERSION, t: 'heartbeat', node: this.name, instance: this.instance, seq: this.seq, heartbeatMs: this.heartbeatMs, dropped: this.dropped }),
      );
    } catch {
      // Disconnected: the connection reconnects by itself.
    }
  }

  private request(msg: Msg): void {
    const request = parseRequest(msg.data);
    if (request === null) {
      this.dropped++;
      if (msg.reply) msg.respond(pack({ v: PROTOCOL_VERSION, t: 'refused', message: 'the request does not parse or fit protocol version 1' }));
      return;
    }
    this.requests++;
    switch (request.t) {
      case 'ping':
        msg.respond(pack({ v: PROTOCOL_VERSION, t: 'pong', node: this.name, instance: this.instance, pid: process.pid, hostname: hostname() }));
        return;
      case 'describe':
        if (this.ready) msg.respond(pack(this.announcement()));
        return;
      case 'health': {
        const probe = this.decls.get(request.module)?.health;
        void settle(async () => (probe === undefined ? 'ok' : await probe())).then((a) => this.reply(msg, [a]));
        return;
      }
      case 'call': {
        let args: unknown[];
        try {
          args = request.calls.map((c) => decodeValue(c.args));
        } catch (e) {
          this.dropped++;
          msg.respond(pack({ v: PROTOCOL_VERSION, t: 'refused', message: `the arguments do not decode: ${errorText(e)}` }));
          return;
        }
        void Promise.all(
          request.calls.map((c, i) =>
            settle(() => {
              const plugin = this.decls.get(c.module)?.plugins.find((p) => p.fn === c.fn);
              if (plugin === undefined) throw Object.assign(new Error(`plugin ${c.fn} of module ${c.module} is not loaded on node "${this.name}"`), { code: 'ENOPLUGIN' });
              return plugin.impl(args[i]);
            }),
          ),
        ).then((answers) => this.reply(msg, answers));
      }
    }
  }

  /** Answers a request; an answer that cannot be encoded is replaced, alone, by an `EDATACLONE` error. */
  private reply(msg: Msg, answers: Array<{ ok: boolean; value: unknown }>): void {
    const wire = answers.map((a): WireAnswer => {
      try {
        return a.ok ? { ok: true, data: encodeValue(a.value, 'result') } : { ok: false, error: encodeValue(a.value, 'thrown value') };
      } catch (e) {
        const message = e instanceof CodecError ? `${e.message} (from node "${this.name}")` : errorText(e);
        return { ok: false, error: { $: 'error', name: 'ExtpointError', message, stack: `ExtpointError: ${message}`, code: 'EDATACLONE' } as Wire };
      }
    });
    try {
      msg.respond(pack({ v: PROTOCOL_VERSION, t: 'answers', answers: wire }));
    } catch {
      // The connection closed: the host's call times out or sees the node down.
    }
  }
}

async function settle(run: () => unknown): Promise<{ ok: boolean; value: unknown }> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    return { ok: false, value: e };
  }
}

function wireModule(name: string, decls: Declarations, file: string | undefined): WireModule {
  const m: WireModule = {
    name,
    plugins: decls.plugins.map(({ fn, module, point, meta }) => ({ fn, module, point, meta: { priority: meta.priority, depends: [...meta.depends] } })),
    points: decls.points.map(({ fn, point }) => ({ fn, point })),
    problems: decls.problems.map((p) => (p.export === undefined ? { message: p.message } : { export: p.export, message: p.message })),
    health: decls.health !== undefined,
  };
  if (file !== undefined) m.file = file;
  return m;
}
