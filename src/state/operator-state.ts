/**
 * An extension's durable operator state: opens the store (lock, load, put flags and counters back),
 * writes flag changes through, flushes counters and history every `flushMs` on a timer that never
 * touches the call path, and writes a last document on a clean stop.
 */
import type { StatusRecord as FrameworkRecord } from '../core/status.js';
import { assertCallNames, isModuleName } from '../core/naming.js';
import type { Registry } from '../registry/registry.js';
import { captureRegistry, loadExit, restoreRegistry, saveExit, type PlainData } from './capture.js';
import { STATE_VERSION, type StateSnapshot } from './snapshot.js';
import { StateError, type StateStore } from './store.js';

/** The framework's own history, with the restart counts of its nodes. */
export interface StatusRecord extends FrameworkRecord {
  nodeRestarts: Record<string, number>;
}

/** What a loaded document gives back to the extension besides the registry's rows. */
export interface RestoredStatus extends StatusRecord {
  /** False when the previous process ended without `stop()` (a crash, SIGKILL). */
  cleanStop: boolean;
  /** The pid of the process that wrote the document. */
  pid: number;
}

export class OperatorState {
  private timer: NodeJS.Timeout | null = null;
  private open = false;

  constructor(
    readonly store: StateStore,
    private readonly registry: Registry,
    private readonly node: string,
    private readonly flushMs: number,
    private readonly status: () => StatusRecord,
    /** Makes exit and terminate reasons JSON-safe. */
    private readonly plain: PlainData,
  ) {}

  /** Locks the store and loads it into the registry; the saved history, or null for a fresh start. */
  async load(): Promise<RestoredStatus | null> {
    await this.store.lock();
    let saved: StateSnapshot | null;
    try {
      saved = await this.store.load();
      if (saved !== null) {
        checkNames(saved, this.store.where);
        restoreRegistry(this.registry, saved);
      }
    } catch (err) {
      this.store.close();
      throw err;
    }
    this.open = true;
    if (saved === null) return null;
    return {
      cleanStop: saved.cleanStop,
      pid: saved.pid,
      startCount: saved.startCount,
      startTime: saved.startTime === null ? null : new Date(saved.startTime),
      terminateCount: saved.terminateCount,
      terminateReasons: saved.terminateReasons.map(loadExit),
      loadErrors: saved.loadErrors.map((e) => ({ ...e, at: new Date(e.at) })),
      nodeRestarts: { ...saved.nodeRestarts },
    };
  }

  /** Starts the periodic flush of counters and history. */
  startFlushing(): void {
    if (this.timer !== null || !this.open) return;
    this.timer = setInterval(() => this.flush(false), this.flushMs);
    this.timer.unref();
  }

  /** Writes a flag change through: on stable storage when this returns. */
  flagsChanged(): void {
    if (this.open) this.store.write(this.snapshot(false), true);
  }

  /** Writes counters and history now (durably when `cleanStop`). */
  flush(cleanStop: boolean): void {
    if (!this.open) return;
    try {
      this.store.write(this.snapshot(cleanStop), cleanStop);
    } catch (err) {
      if (cleanStop) throw err;
      // A failed periodic flush is retried on the next tick; the flags that returned are already on disk.
    }
  }

  /** Writes the last document as a clean stop and releases the store. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (!this.open) return;
    try {
      this.flush(true);
    } finally {
      this.open = false;
      this.store.close();
    }
  }

  private snapshot(cleanStop: boolean): StateSnapshot {
    const status = this.status();
    const { points, plugins } = captureRegistry(this.registry, this.plain);
    return {
      version: STATE_VERSION,
      node: this.node,
      pid: process.pid,
      savedAt: new Date().toISOString(),
      cleanStop,
      startCount: status.startCount,
      startTime: status.startTime?.toISOString() ?? null,
      terminateCount: status.terminateCount,
      terminateReasons: status.terminateReasons.map((t) => saveExit(t, this.plain)),
      loadErrors: status.loadErrors.map(({ at, ...rest }) => ({ ...rest, at: at.toISOString() })),
      points,
      plugins,
      nodeRestarts: status.nodeRestarts,
    };
  }
}

/** Refuses a document whose rows name what no module or point could be called, before anything is applied. */
function checkNames(saved: StateSnapshot, where: string): void {
  const rows = [...saved.points.map((p) => ({ ...p, pluginModule: undefined })), ...saved.plugins];
  for (const [i, row] of rows.entries()) {
    try {
      assertCallNames(row.module, row.point);
      if (row.pluginModule !== undefined && !isModuleName(row.pluginModule)) throw new TypeError(`invalid plugin module name ${JSON.stringify(row.pluginModule)}`);
    } catch (err) {
      throw new StateError(
        'ESTATECORRUPT',
        `state file ${where} cannot be used: row ${i} names an invalid module, point or plugin (${(err as Error).message}). ` +
          `Nothing was overwritten. Fix or remove the file, or start with onCorruptState: 'backup'`,
      );
    }
  }
}
