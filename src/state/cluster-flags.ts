/**
 * Flags replicated through the cluster: the flag half of the durable-state interface, backed by a NATS
 * key-value bucket (JetStream) instead of a file. The registry stays the one source of truth: a local
 * flag call sets it at once and names the flag here; what is written to the bucket is the registry's value
 * at the time of writing. The bucket's changes, made by other hosts, are applied back to the registry.
 *
 * - `attach` (in `start()`, before any plugin runs): reads every key of the bucket and applies it, then
 *   keeps watching. Keys that do not parse, and values that are not a flag, are skipped and reported.
 * - `changed` (after every local flag call while attached): the key is marked dirty and written soon; while
 *   the server is away it stays dirty and is written when the connection is back, with the value of that
 *   moment (later calls on one key coalesce; nothing that returned is lost while the process lives).
 * - No echo: a key with a local write pending ignores what the watch says of it until the write is
 *   acknowledged, then applies only what is newer than its own revision.
 */
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import type { Registry } from '../registry/registry.js';
import { errorText } from '../core/thrown.js';
import { describeFlag, flagKey, flagValue, parseFlagKey, parseFlagValue, type FlagRef } from './flag-keys.js';

/** What the cluster flags tell the extension. */
export interface ClusterFlagsHooks {
  /** A bucket entry was refused, or a write failed: recorded as a load error (`where` names the bucket). */
  problem(message: string): void;
  /** Flags from the bucket were applied to the registry (a state file, if any, writes them). */
  applied(): void;
}

/** Counts, for tests and the curious. */
export interface ClusterFlagsStats {
  /** Entries from other hosts applied to the registry. */
  applied: number;
  /** Local flag changes written to the bucket. */
  written: number;
  /** Bucket entries refused (bad key or value). */
  refused: number;
  /** Writes that failed and were tried again. */
  failedWrites: number;
}

/** How long a bucket request may take, and how long `attach` waits for the bucket's current keys. */
const REQUEST_MS = 5_000;
const ATTACH_MS = 10_000;
/** How soon a failed write is tried again (also at once when the connection comes back). */
const RETRY_MS = 500;

/** The bucket of cluster `name`'s flags. */
export function flagBucket(cluster: string): string {
  return `extpoint_${cluster}_flags`;
}

export class ClusterFlags {
  readonly bucket: string;
  readonly stats: ClusterFlagsStats = { applied: 0, written: 0, refused: 0, failedWrites: 0 };
  private kv: KV | null = null;
  private watcher: QueuedIterator<KvEntry> | null = null;
  private status: { stop?: () => void } | null = null;
  /** Local changes not yet written, by key. */
  private readonly dirty = new Map<string, FlagRef>();
  /** Keys with a write in flight. */
  private readonly writing = new Set<string>();
  /** The newest revision applied or written, by key: older entries (and our own echoes) are skipped. */
  private readonly revisions = new Map<string, number>();
  /** The newest entry seen for a key while a local write of it was pending. */
  private readonly held = new Map<string, KvEntry>();
  private settledWaiters: Array<() => void> = [];
  private retry: NodeJS.Timeout | null = null;
  /** True between a failed write and the next successful one: one report per outage. */
  private failing = false;
  /** True while a notice of applied entries is scheduled. */
  private notifying = false;
  /** True once `attach` has applied the bucket's keys. */
  private attachedOnce = false;
  /** True while a write of the dirty keys is scheduled. */
  private scheduled = false;

  constructor(
    private readonly registry: Registry,
    cluster: string,
    /** This host's node name, written as `by` in values. */
    private readonly host: string,
    private readonly hooks: ClusterFlagsHooks,
  ) {
    this.bucket = flagBucket(cluster);
  }

  /** True while attached to a bucket. */
  get attached(): boolean {
    return this.kv !== null;
  }

  /**
   * Opens (or creates) the bucket, applies every flag in it to the registry, and watches it. Resolves
   * false, after reporting it as a problem, when the server has no JetStream (flags stay local).
   *
   * @throws Error naming the bucket when JetStream does not answer or the current keys do not arrive in time.
   */
  async attach(nc: NatsConnection): Promise<boolean> {
    if (this.kv !== null) return true;
    let kv: KV;
    try {
      kv = await nc.jetstream({ timeout: REQUEST_MS }).views.kv(this.bucket, { timeout: REQUEST_MS });
    } catch (e) {
      if (/\b503\b|no responders|jetstream not enabled/i.test(errorText(e))) {
        // A server without JetStream still serves remote nodes: the flags stay on this host, and say so.
        this.hooks.problem(
          `cluster-wide flags are off: the NATS server has no JetStream for the flag bucket ${this.bucket} (${errorText(e)}); ` +
            'flags apply on this host only. Run nats-server with -js and start the host again',
        );
        return false;
      }
      throw new Error(
        `extpoint: cannot open the cluster's flag bucket ${this.bucket}: ${errorText(e)}; the NATS server must run JetStream (nats-server -js)`,
      );
    }
    this.kv = kv;
    try {
      await this.watch();
    } catch (e) {
      this.kv = null;
      throw new Error(`extpoint: cannot read the cluster's flag bucket ${this.bucket}: ${errorText(e)}`);
    }
    this.attachedOnce = true;
    this.followStatus(nc);
    this.pump();
    return true;
  }

  /** Stops watching and writing. Changes not yet written are dropped (the registry keeps them on this host). */
  detach(): void {
    this.watcher?.stop();
    this.watcher = null;
    this.status?.stop?.();
    this.status = null;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.kv = null;
    this.attachedOnce = false;
    this.dirty.clear();
    this.writing.clear(); // their answers are ignored (they belong to the connection being closed)
    this.held.clear();
    this.wake();
  }

  /** A local flag call set `ref` in the registry: write it to the bucket (when attached). */
  changed(ref: FlagRef): void {
    if (this.kv === null) return;
    this.dirty.set(flagKey(ref), ref);
    // Written right after the caller's synchronous code (a put costs about 0.1 ms of CPU to send): the
    // flag call returns at the speed of the registry, and a burst of calls on one key is one write.
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Resolves once every local change made so far is in the bucket (at once when not attached). */
  settled(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((done) => this.settledWaiters.push(done));
  }

  private idle(): boolean {
    return this.kv === null || (this.dirty.size === 0 && this.writing.size === 0);
  }

  private wake(): void {
    if (!this.idle()) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const done of waiters) done();
  }

  /** Watches the bucket from its current keys on; resolves once they are applied. */
  private async watch(): Promise<void> {
    const kv = this.kv!;
    let initialized!: () => void;
    const ready = new Promise<void>((done) => (initialized = done));
    const watcher = await kv.watch({ initializedFn: () => initialized() });
    this.watcher?.stop();
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const entry of watcher) {
          try {
            this.entry(entry);
          } catch {
            // A listener of the extension's events threw: the watch goes on.
          }
        }
      } catch {
        // The watch ended with the connection or the server; a reconnect watches again.
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`its keys did not arrive within ${ATTACH_MS} ms`)), ATTACH_MS);
    });
    try {
      await Promise.race([ready, late]);
    } catch (e) {
      watcher.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** On a reconnect: watch again (the server may have restarted) and write what is dirty. */
  private followStatus(nc: NatsConnection): void {
    const status = nc.status();
    this.status = status as { stop?: () => void };
    void (async () => {
      try {
        for await (const s of status) {
          if (s.type !== 'reconnect' || this.kv === null) continue;
          this.rewatch();
          this.pump();
        }
      } catch {
        // The connection closed.
      }
    })();
  }

  private rewatch(attempt = 0): void {
    if (this.kv === null) return;
    this.watch().catch(() => {
      // JetStream may need a moment after a server restart.
      if (attempt < 40) setTimeout(() => this.rewatch(attempt + 1), RETRY_MS).unref();
    });
  }

  /** One entry of the watch: applied unless refused, stale, or about a key this host is writing. */
  private entry(entry: KvEntry): void {
    let ref: FlagRef;
    let enabled: boolean;
    try {
      ref = parseFlagKey(entry.key);
      enabled = entry.operation === 'PUT' ? parseFlagValue(entry.value) : true;
    } catch (e) {
      this.stats.refused++;
      this.hooks.problem(`ignored an entry of the cluster's flag bucket ${this.bucket} (revision ${entry.revision}): ${errorText(e)}`);
      return;
    }
    const key = entry.key;
    if (this.dirty.has(key) || this.writing.has(key)) {
      const seen = this.held.get(key);
      if (seen === undefined || seen.revision < entry.revision) this.held.set(key, entry);
      return;
    }
    if (entry.revision <= (this.revisions.get(key) ?? 0)) return;
    this.revisions.set(key, entry.revision);
    if (ref.kind === 'point') this.registry.setPointEnabled(ref.module, ref.point, enabled);
    else this.registry.setPluginEnabled(ref.pluginModule, ref.module, ref.point, enabled, ref.node);
    this.stats.applied++;
    // One notice per burst (a state file writes once for many entries); none while attaching, as
    // `start()` writes the state file itself once everything is loaded.
    if (this.notifying || this.watcher === null || !this.attachedOnce) return;
    this.notifying = true;
    setImmediate(() => {
      this.notifying = false;
      if (this.kv !== null) this.hooks.applied();
    });
  }

  /** Writes every dirty key that has no write in flight. */
  private pump(): void {
    const kv = this.kv;
    if (kv === null) return;
    for (const [key, ref] of this.dirty) {
      if (this.writing.has(key)) continue;
      this.dirty.delete(key);
      this.writing.add(key);
      kv.put(key, flagValue(this.current(ref), this.host)).then(
        (revision) => this.written(kv, key, revision),
        (e: unknown) => this.failed(kv, key, ref, e),
      );
    }
  }

  /** The registry's value of a flag now. */
  private current(ref: FlagRef): boolean {
    const p = this.registry.pin(ref.module, ref.point);
    return ref.kind === 'point' ? p.enabled : p.slot(ref.pluginModule, ref.node).enabled;
  }

  private written(kv: KV, key: string, revision: number): void {
    if (kv !== this.kv) return;
    this.writing.delete(key);
    this.stats.written++;
    this.failing = false;
    if (revision > (this.revisions.get(key) ?? 0)) this.revisions.set(key, revision);
    if (this.dirty.has(key)) return this.pump();
    const held = this.held.get(key);
    this.held.delete(key);
    // Another host wrote the key after this write: its value is the bucket's, and so the registry's.
    if (held !== undefined) this.entry(held);
    this.wake();
  }

  private failed(kv: KV, key: string, ref: FlagRef, e: unknown): void {
    if (kv !== this.kv) return;
    this.writing.delete(key);
    this.stats.failedWrites++;
    if (!this.dirty.has(key)) this.dirty.set(key, ref);
    if (!this.failing) {
      this.failing = true;
      this.hooks.problem(
        `could not write the flag of ${describeFlag(ref)} to the cluster's flag bucket ${this.bucket}: ${errorText(e)}; ` +
          'it applies on this host and is written when the NATS server answers again',
      );
    }
    if (this.retry === null) {
      this.retry = setTimeout(() => {
        this.retry = null;
        this.pump();
      }, RETRY_MS);
      this.retry.unref();
    }
  }
}
