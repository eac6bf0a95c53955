/**
 * Watching plugin folders with chokidar, and deciding when a changed path has settled. chokidar's events
 * only say "look at this path": a path is handed on once nothing has happened to it for a quiet period
 * and its status (size, modification time, inode) stayed the same across that period, so a file being
 * written in pieces is not handed on half-written, and a burst of changes is handed on once.
 *
 * chokidar watches a folder by its inode and compares a folder's entries by name only. So a subfolder
 * renamed over another (the old one moved away, a new one renamed into its place, as deploy tools swap
 * versions), or a file replaced by a folder of the same name, goes unnoticed: the name is still there,
 * and the watch still follows the old folder wherever it went. Here every watched folder's inode is
 * remembered; a folder that settles with another inode than the one watched (or that was never watched)
 * gets a chokidar watcher of its own (replacing the one an earlier replacement there got) before its path
 * is handed on, so what is in it is listed and what changes in it later is seen.
 */
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { stampOf } from './loader.js';

/** How long a path must stay quiet and unchanged before it is handed on, in milliseconds. */
export const QUIET_MS = 50;
/** How long a new folder chokidar has not taken up yet may wait for it before it gets a watcher of its own. */
const NEW_FOLDER_GRACE_MS = 250;

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
  /** Receives paths that settled, in batches; a path may be a folder, whose contents are to be looked at. */
  settled(paths: string[]): void;
  quietMs?: number;
}

/** One chokidar watcher over all plugin folders, plus per-path settling. */
export class FolderWatch {
  private watcher: FSWatcher | null = null;
  /** Every folder being watched, with the inode it is watched by. */
  private readonly inodes = new Map<string, number>();
  /** Watchers of folders found replaced, by path: the main watcher's watch there follows the old folder. */
  private readonly patches = new Map<string, FSWatcher>();
  /** Replaced folders being given their own watcher, one after the other. */
  private patching: Promise<void> = Promise.resolve();
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; stamp: string; waited?: boolean }>();
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
    this.watcher = await this.watchOver(dirs);
  }

  /** Adds a folder to an open watcher (one that did not exist when watching started). */
  add(dir: string): void {
    if (this.watcher === null) return;
    this.remember(dir);
    this.watcher.add(dir);
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
    this.inodes.clear();
    const watchers = [this.watcher, ...this.patches.values()];
    this.watcher = null;
    this.patches.clear();
    await Promise.all(watchers.map((w) => w?.close()));
  }

  /** A chokidar watcher over `dirs`, ready; their folders' inodes are taken first. */
  private async watchOver(dirs: string[]): Promise<FSWatcher> {
    // Taken before chokidar looks: a folder swapped in between is then seen as replaced, never missed.
    for (const dir of dirs) this.remember(dir);
    const watcher = watch(dirs, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path, stats) => this.options.ignored(path, stats?.isFile()),
    });
    // A watcher error (a folder that vanished, a permission) must never become an unheard `error` event.
    watcher.on('error', () => {});
    watcher.on('all', (event, path, stats) => {
      if (event === 'addDir') this.inodes.set(path, stats?.ino ?? inodeOf(path) ?? -1);
      this.touch(path);
    });
    // A folder's entry renamed, made or removed: a folder may have been replaced under the same name,
    // which chokidar itself does not report.
    watcher.on('raw', (event: string, name: unknown, details: unknown) => {
      const folder = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (event !== 'rename' || typeof name !== 'string' || name === '' || typeof folder !== 'string') return;
      if (!this.inodes.has(folder)) return; // a file's own watch
      const path = folder + sep + name;
      if (!this.options.ignored(path, undefined)) this.touch(path);
    });
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
    return watcher;
  }

  /** Records the inodes of `dir` and of every folder below it that is watched. */
  private remember(dir: string): void {
    const folders = [dir];
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      const ino = inodeOf(folder);
      if (ino === undefined) continue;
      this.inodes.set(folder, ino);
      let entries;
      try {
        entries = readdirSync(folder, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        const path = folder + sep + entry.name;
        if (entry.isDirectory() && !this.options.ignored(path, false)) folders.push(path);
      }
    }
  }

  /** True when `path` is now a folder other than the one watched under its name (or than none). */
  private replacedFolder(path: string): boolean {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch {
      return false;
    }
    return stats.isDirectory() && this.inodes.get(path) !== stats.ino && !this.options.ignored(path, false);
  }

  /** Gives the replaced folder `path` a watcher of its own (closing those below it), then hands it on. */
  private patch(path: string): void {
    this.patching = this.patching.then(async () => {
      if (this.watcher === null) return;
      for (const [at, old] of this.patches) {
        if (at === path || at.startsWith(path + sep)) {
          this.patches.delete(at);
          await old.close();
        }
      }
      let fresh: FSWatcher;
      try {
        fresh = await this.watchOver([path]);
      } catch {
        return; // the folder went away meanwhile: its removal is an event of its own
      }
      if (this.watcher === null) {
        await fresh.close(); // stopped meanwhile
        return;
      }
      this.patches.set(path, fresh);
      this.handOn(path);
    });
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
    if (this.replacedFolder(path)) {
      if (!this.inodes.has(path) && !entry.waited) {
        // A new folder: chokidar is most likely about to take it up itself (an addDir event); give it time.
        entry.waited = true;
        entry.timer = setTimeout(() => this.check(path), NEW_FOLDER_GRACE_MS);
        return;
      }
      this.pending.delete(path);
      this.patch(path);
      return;
    }
    this.pending.delete(path);
    this.handOn(path);
  }

  private handOn(path: string): void {
    if (this.batch.push(path) === 1) {
      setImmediate(() => {
        const paths = this.batch;
        this.batch = [];
        if (paths.length > 0 && this.watcher !== null) this.options.settled(paths);
      });
    }
  }
}

function inodeOf(path: string): number | undefined {
  try {
    const stats = lstatSync(path);
    return stats.isDirectory() ? stats.ino : undefined;
  } catch {
    return undefined;
  }
}
