/**
 * Watching plugin folders with chokidar, and deciding when a changed file has settled. chokidar's events
 * only say "look at this path": a path is handed on once nothing has happened to it for a quiet period
 * and its status (size, modification time, inode) stayed the same across that period, so a file being
 * written in pieces is not handed on half-written, and a burst of changes is handed on once.
 */
import { statSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { stampOf } from './loader.js';

/** How long a path must stay quiet and unchanged before it is handed on, in milliseconds. */
export const QUIET_MS = 50;

/** A path's status as a comparable string; `missing` when it does not exist. */
export function currentStamp(path: string): string {
  try {
    return stampOf(statSync(path));
  } catch {
    return 'missing';
  }
}

export interface FolderWatchOptions {
  /** Paths chokidar should not watch at all (dependencies, dot-folders, unrelated file types). */
  ignored(path: string, isFile: boolean | undefined): boolean;
  /** Receives paths that settled, in batches. */
  settled(paths: string[]): void;
  quietMs?: number;
}

/** One chokidar watcher over all plugin folders, plus per-path settling. */
export class FolderWatch {
  private watcher: FSWatcher | null = null;
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; stamp: string }>();
  private batch: string[] = [];
  private readonly quietMs: number;

  constructor(private readonly options: FolderWatchOptions) {
    this.quietMs = options.quietMs ?? QUIET_MS;
  }

  get open(): boolean {
    return this.watcher !== null;
  }

  /** Starts watching `dirs`; resolves once chokidar has set up its watches. */
  async start(dirs: string[]): Promise<void> {
    if (this.watcher !== null) return;
    const watcher = watch(dirs, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path, stats) => this.options.ignored(path, stats?.isFile()),
    });
    this.watcher = watcher;
    // A watcher error (a folder that vanished, a permission) must never become an unheard `error` event.
    watcher.on('error', () => {});
    watcher.on('all', (_event, path) => this.touch(path));
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
  }

  /** Adds a folder to an open watcher (one that did not exist when watching started). */
  add(dir: string): void {
    this.watcher?.add(dir);
  }

  /** Looks at `path` again once it has settled; called for every event, and to double-check a load. */
  touch(path: string): void {
    const entry = this.pending.get(path);
    if (entry !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => this.check(path), this.quietMs);
      return;
    }
    this.pending.set(path, { timer: setTimeout(() => this.check(path), this.quietMs), stamp: currentStamp(path) });
  }

  /** Closes chokidar's handles and drops pending paths. */
  async stop(): Promise<void> {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.batch = [];
    const watcher = this.watcher;
    this.watcher = null;
    await watcher?.close();
  }

  private check(path: string): void {
    const entry = this.pending.get(path);
    if (entry === undefined) return;
    const stamp = currentStamp(path);
    if (stamp !== entry.stamp) {
      // Still changing: wait for another quiet period.
      entry.stamp = stamp;
      entry.timer = setTimeout(() => this.check(path), this.quietMs);
      return;
    }
    this.pending.delete(path);
    if (this.batch.push(path) === 1) {
      setImmediate(() => {
        const paths = this.batch;
        this.batch = [];
        if (paths.length > 0 && this.watcher !== null) this.options.settled(paths);
      });
    }
  }
}
