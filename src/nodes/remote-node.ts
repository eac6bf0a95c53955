/**
 * A plugin node in another process (or machine), seen from a host over NATS: it registers what the node
 * announces, sends each batch of calls as one request and reads one reply, and follows the node's
 * heartbeats. Faults become answers: no reply within `callTimeoutMs` is `ETIMEOUT`; a node whose
 * heartbeats stopped (or that said bye, or has no subscriber) is down and its plugins answer `ENODEDOWN`
 * at once; its rows stay, and when it comes back it registers again over them, counters kept.
 */
import type { NatsConnection } from 'nats';
import { CodecError } from '../cluster/codec.js';
import { EASYNC, ExtpointError } from '../core/errors.js';
import { callRequest, pack, parseAnnounce, parseAnswers, PROTOCOL_VERSION, type Announce, type Heartbeat, type Subjects } from '../cluster/protocol.js';
import { nodeError, REASONS_KEPT, type NodeAnswer, type NodeCall, type NodeHost, type NodeRow, type NodeStatus, type PluginNode } from './node.js';

/** What remote nodes share: the connection (null while the host is not joined), subjects and timeouts. */
export interface RemoteLink {
  connection(): NatsConnection | null;
  readonly subjects: Subjects;
  readonly callTimeoutMs: number;
}

interface Outgoing {
  batch: NodeCall[];
  resolve(answers: NodeAnswer[]): void;
}

/** Heartbeats missed before a node is marked down. */
export const MISSED_HEARTBEATS = 3;

export class RemoteNode implements PluginNode {
  readonly kind = 'remote' as const;
  status: NodeStatus = 'down';
  /** Messages about this node that did not parse or fit the protocol, dropped here. */
  dropped = 0;
  /** Requests the node itself says it dropped (from its heartbeats). */
  private droppedThere = 0;
  private instance: string | null = null;
  private seq = 0;
  private heartbeatMs = 1000;
  private lastSeen = 0;
  private calls = 0;
  private restarts = 0;
  private startedAt: Date | null = null;
  private readonly reasons: string[] = [];
  /** Modules registered for this node, with the announcement each was registered from. */
  private readonly registered = new Map<string, string>();
  /** Announcements of modules the host refused, so that a repeated announcement is not refused again. */
  private readonly refused = new Map<string, string>();
  private seenErrors = new Set<string>();
  private readonly inFlight = new Set<(answers: NodeAnswer[] | null, error: Error) => void>();
  private outbox: Outgoing[] | null = null;
  private describing = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly link: RemoteLink,
    private readonly host: NodeHost,
  ) {}

  start(): Promise<void> {
    this.stopped = false;
    return Promise.resolve();
  }

  /** The host leaves: calls in flight answer `ENODEDOWN`; the node is shown down until heard again. */
  stop(): Promise<void> {
    this.stopped = true;
    this.down('the host left the cluster');
    return Promise.resolve();
  }

  /** Asks the node for its announcement again now. */
  async restart(): Promise<void> {
    this.stopped = false;
    await this.describe();
  }

  call(batch: NodeCall[]): Promise<NodeAnswer[]> {
    this.calls++;
    if (this.status !== 'up') return Promise.resolve(allFail(batch.length, this.downError()));
    return new Promise((resolve) => {
      // Calls made in the same turn cross together: one request, one reply.
      if (this.outbox === null) {
        this.outbox = [];
        queueMicrotask(() => this.flush());
      }
      this.outbox.push({ batch, resolve });
    });
  }

  /**
   * A synchronous call cannot wait for the network: each plugin answers `EASYNC` at once, and nothing is
   * sent, so the plugin does not run for a result nobody would read.
   */
  callSync(calls: readonly { module: string; fn: string }[]): NodeAnswer[] {
    return calls.map(({ module, fn }) => ({
      ok: false,
      error: new ExtpointError(
        EASYNC,
        `plugin ${module}.${fn} runs on remote node "${this.name}": a synchronous call cannot wait for the network, so it was not sent; ` +
          'call the point with callPlugins (or point().call)',
      ),
    }));
  }

  async health(module: string): Promise<unknown> {
    if (this.status !== 'up') throw this.downError();
    const [answer] = await this.request(pack({ v: PROTOCOL_VERSION, t: 'health', module }), 1);
    if (answer!.ok) return answer!.data;
    throw answer!.error;
  }

  row(): Omit<NodeRow, 'plugins'> {
    return {
      node: this.name,
      kind: 'remote',
      status: this.status,
      calls: this.calls,
      restarts: this.restarts,
      lastReasons: [...this.reasons],
      startedAt: this.status === 'up' ? this.startedAt : null,
      dropped: this.dropped + this.droppedThere,
    };
  }

  // -------------------------------------------------------------------------------------------------
  // What the cluster hears about this node

  /** An announcement (published, or the reply to `describe`). */
  announced(a: Announce): void {
    if (this.stopped) return;
    const fresh = a.instance !== this.instance;
    if (!fresh && a.seq < this.seq) return;
    if (fresh) {
      if (this.instance !== null) this.restarts++;
      this.instance = a.instance;
      this.seenErrors = new Set();
      this.startedAt = new Date();
      // The node's own count starts again with its new run; what it had counted stays counted here.
      this.dropped += this.droppedThere;
      this.droppedThere = 0;
    }
    this.seq = a.seq;
    this.heartbeatMs = a.heartbeatMs;
    this.lastSeen = Date.now();
    this.apply(a);
    if (this.status !== 'up' || fresh) this.up(fresh);
  }

  heartbeat(h: Heartbeat): void {
    if (this.stopped) return;
    this.lastSeen = Date.now();
    this.heartbeatMs = h.heartbeatMs;
    if (h.dropped !== undefined && h.instance === this.instance) this.droppedThere = h.dropped;
    if (h.instance !== this.instance || h.seq !== this.seq) void this.describe();
    else if (this.status !== 'up') this.up(false);
  }

  bye(instance: string, reason: string): void {
    if (instance === this.instance) this.down(`the node closed: ${reason}`);
  }

  /** Marks the node down when its heartbeats stopped. */
  check(now: number): void {
    const limit = MISSED_HEARTBEATS * this.heartbeatMs;
    if (this.status === 'up' && now - this.lastSeen > limit) this.down(`no heartbeat for ${now - this.lastSeen} ms (more than ${MISSED_HEARTBEATS} x ${this.heartbeatMs} ms)`);
  }

  // -------------------------------------------------------------------------------------------------

  /** Registers the modules of an announcement that changed, and unregisters those it no longer has. */
  private apply(a: Announce): void {
    const names = new Set<string>();
    for (const m of a.modules) {
      names.add(m.name);
      const key = JSON.stringify(m);
      if (this.registered.get(m.name) === key || this.refused.get(m.name) === key) continue;
      const plugins = m.plugins.map((p) => ({ fn: p.fn, module: p.module, point: p.point, meta: { priority: p.meta.priority, depends: [...p.meta.depends] } }));
      if (this.host.install(this.name, m.name, plugins, m.points, m.problems, m.health, m.file)) {
        this.registered.set(m.name, key);
        this.refused.delete(m.name);
      } else {
        this.refused.set(m.name, key);
      }
    }
    for (const name of [...this.registered.keys()]) {
      if (names.has(name)) continue;
      this.registered.delete(name);
      this.host.uninstall(this.name, name);
    }
    for (const name of [...this.refused.keys()]) if (!names.has(name)) this.refused.delete(name);
    for (const e of a.loadErrors) {
      const key = JSON.stringify(e);
      if (this.seenErrors.has(key)) continue;
      this.seenErrors.add(key);
      this.host.loadError(this.name, e);
    }
  }

  /** Asks the node for its announcement (one request at a time). */
  private async describe(): Promise<void> {
    const nc = this.link.connection();
    if (nc === null || this.describing) return;
    this.describing = true;
    try {
      const reply = await nc.request(this.link.subjects.call(this.name), pack({ v: PROTOCOL_VERSION, t: 'describe' }), { timeout: this.link.callTimeoutMs });
      const a = parseAnnounce(reply.data, this.name);
      if (a === null) this.dropped++;
      else this.announced(a);
    } catch {
      // No answer: the next heartbeat asks again.
    } finally {
      this.describing = false;
    }
  }

  private up(fresh: boolean): void {
    this.status = 'up';
    if (fresh || this.startedAt === null) this.startedAt = new Date();
    this.host.up({ node: this.name });
  }

  private down(reason: string): void {
    const error = nodeError('ENODEDOWN', `node "${this.name}" went down: ${reason}`);
    for (const settle of [...this.inFlight]) settle(null, error);
    if (this.status === 'down') return;
    this.status = 'down';
    this.reasons.push(reason);
    if (this.reasons.length > REASONS_KEPT) this.reasons.shift();
    this.host.down({ node: this.name, reason, status: 'down' });
  }

  /** Sends the calls of this turn as one request; a part that cannot be encoded fails (EDATACLONE) alone. */
  private flush(): void {
    const parts = this.outbox ?? [];
    this.outbox = null;
    let bytes: Uint8Array | null = null;
    try {
      bytes = callRequest(parts.length === 1 ? parts[0]!.batch : parts.flatMap((p) => p.batch));
    } catch {
      if (parts.length === 1) bytes = null;
      else {
        for (const part of parts) this.sendOne(part);
        return;
      }
    }
    if (bytes === null) {
      this.sendOne(parts[0]!);
      return;
    }
    const size = parts.reduce((n, p) => n + p.batch.length, 0);
    void this.request(bytes, size).then((answers) => {
      let at = 0;
      for (const part of parts) {
        part.resolve(parts.length === 1 ? answers : answers.slice(at, at + part.batch.length));
        at += part.batch.length;
      }
    });
  }

  private sendOne(part: Outgoing): void {
    let bytes: Uint8Array;
    try {
      bytes = callRequest(part.batch);
    } catch (e) {
      const message = e instanceof CodecError ? e.message : String(e);
      part.resolve(allFail(part.batch.length, nodeError('EDATACLONE', `${message} (to node "${this.name}")`)));
      return;
    }
    void this.request(bytes, part.batch.length).then(part.resolve);
  }

  /** One request and its answers; never rejects: every fault is an answer. */
  private request(bytes: Uint8Array, size: number): Promise<NodeAnswer[]> {
    const nc = this.link.connection();
    if (nc === null || this.status !== 'up') return Promise.resolve(allFail(size, this.downError()));
    return new Promise((resolve) => {
      let settled = false;
      const settle = (answers: NodeAnswer[] | null, error: Error): void => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(settle);
        resolve(answers ?? allFail(size, error));
      };
      this.inFlight.add(settle);
      const { callTimeoutMs } = this.link;
      let sent: Promise<{ data: Uint8Array }>;
      try {
        sent = nc.request(this.link.subjects.call(this.name), bytes, { timeout: callTimeoutMs });
      } catch (e) {
        settle(null, this.transportError(e));
        return;
      }
      sent.then(
        (reply) => {
          const answers = parseAnswers(reply.data, size);
          if (typeof answers !== 'string') return settle(answers, new Error());
          this.dropped++;
          settle(null, nodeError('ENODEDOWN', `node "${this.name}" answered with a reply that does not fit the protocol: ${answers}`));
        },
        (e: unknown) => settle(null, this.transportError(e)),
      );
    });
  }

  private transportError(e: unknown): Error {
    const code = (e as { code?: unknown }).code;
    const { callTimeoutMs } = this.link;
    if (code === 'TIMEOUT') return nodeError('ETIMEOUT', `node "${this.name}" did not answer within callTimeoutMs (${callTimeoutMs} ms)`);
    if (code === '503') {
      // Nobody serves the node's subject: it is gone (the server saw its connection close).
      this.down('no process serves its call subject (NATS: no responders)');
      return this.downError();
    }
    if (code === 'MAX_PAYLOAD_EXCEEDED') return nodeError('EDATACLONE', `the call to node "${this.name}" is larger than the NATS server's max_payload`);
    return nodeError('ENODEDOWN', `node "${this.name}" could not be reached: ${(e as Error)?.message ?? String(e)}`);
  }

  private downError(): Error {
    const last = this.reasons[this.reasons.length - 1];
    const why = this.stopped ? 'the host left the cluster' : last ?? 'it has not announced itself yet';
    return nodeError('ENODEDOWN', `node "${this.name}" is down: ${why}`);
  }
}

function allFail(size: number, error: Error): NodeAnswer[] {
  const answers: NodeAnswer[] = [];
  for (let i = 0; i < size; i++) answers.push({ ok: false, error });
  return answers;
}
