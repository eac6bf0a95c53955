/**
 * Plugin folders: each folder is walked for `.js`, `.cjs` and `.mjs` files (skipping
 * `node_modules` and dot-folders), and watched with chokidar while the extension runs. Every such file is
 * loaded; one whose exports follow the naming convention is a module, named after its file, and the others
 * are helpers. This file decides what is registered: which file serves a module name when two claim it
 * (the first wins: earlier folder, then path order), what a change, a deletion or a failure does, and when
 * a failure is worth reporting.
 */
import { basename, dirname, sep } from 'node:path';
import { FolderTimers } from './folder-timers.js';
import { FolderPaths, isDirectory, type Placement } from './folder-paths.js';
import { Loader } from './loader.js';
import { guardedLoad, type LoadGuard } from './load-guard.js';
import { PermissionCheck } from './permissions.js';
import { FolderWatch, currentStamp } from './watcher.js';
import { declaresAnything, errorText, type Declarations } from '../core/declarations.js';
import { moduleNameOf } from './scanner.js';
import { RefusedNames } from './refused-names.js';
import type { ModuleOrigin } from '../registry/registry.js';
import type { ModuleHost } from '../registry/module-host.js';

export interface FolderOptions {
  dirs: readonly string[];
  watch: boolean;
  checkPermissions: boolean;
  guard?: LoadGuard;
}

/** The registry operations the folders use, plus the origin of a registered module name. */
export interface FolderHost extends ModuleHost {
  originOf(name: string): ModuleOrigin | undefined;
}

/** A file found in a plugin folder. */
interface PluginFile {
  readonly file: string;
  readonly dir: number;
  /** Path relative to its folder, with `/`: the order of the duplicate rule. */
  readonly rel: string;
  readonly name: string;
  /** True when its last good version declared anything (a module, not a helper). */
  module: boolean;
  /** The plugin-folder files its last load reached. */
  touched: Set<string>;
}

/** Scans, watches and loads the plugin folders of one extension. */
export class PluginFolders {
  private readonly paths: FolderPaths;
  private readonly files = new Map<string, PluginFile>();
  /** Module name -> the plugin files of that name. */
  private readonly byName = new Map<string, Set<PluginFile>>();
  /** Module name -> the file whose version is registered. */
  private readonly installed = new Map<string, string>();
  private readonly loader: Loader;
  private readonly permissions: PermissionCheck | null;
  private readonly watcher: FolderWatch;
  private readonly watching = new Set<number>();
  private readonly refusedNames = new RefusedNames();
  private readonly timers = new FolderTimers();
  /** Problems of folders and links the last scan found, so that the next one does not repeat them. */
  private lastProblems = new Set<string>();
  /** Problems found by the scan in progress, by message; null between scans. */
  private scanProblems: Map<string, { file: string; message: string }> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private active = false;

  constructor(
    private readonly host: FolderHost,
    private readonly options: FolderOptions,
  ) {
    this.paths = new FolderPaths(options.dirs, (error) => this.scanProblem(error));
    this.permissions = options.checkPermissions ? new PermissionCheck() : null;
    this.loader = new Loader({ rootOf: (file) => this.paths.rootOf(file), permissions: this.permissions });
    this.watcher = new FolderWatch({
      ignored: (path, isFile) => this.paths.ignored(path, isFile),
      settled: (paths) => void this.run(() => this.process(paths, true)),
    });
  }

  /** Scans every folder, then watches them when watching is on. */
  start(): Promise<void> {
    return this.run(async () => {
      this.active = true;
      await this.scan();
      if (!this.options.watch || this.watcher.open) return;
      await this.watch();
      // Files that changed while the watches were being set up.
      await this.scan();
    });
  }

  /** Scans every folder again: new files load, changed ones reload, missing ones unload. */
  rescan(): Promise<void> {
    return this.run(() => this.scan());
  }

  /** Closes the watcher and its timers; the registered modules stay. */
  stop(): Promise<void> {
    return this.run(async () => {
      this.active = false;
      this.timers.clear();
      this.watching.clear();
      await this.watcher.stop();
    });
  }

  /** Runs folder work one task at a time, so that a scan and a watch event never interleave. */
  private run(task: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(task).catch((err: unknown) => {
      // Only a throwing event listener of the host gets here; the folder state stays usable.
      this.report({ message: `plugin folder work failed: ${errorText(err)}` });
    });
    this.queue = next;
    return next;
  }

  private async watch(): Promise<void> {
    const dirs = this.paths.dirs.filter((_, i) => !this.watching.has(i) && isDirectory(this.paths.dirs[i]!));
    if (dirs.length === 0) return;
    if (!this.watcher.open) await this.watcher.start(dirs);
    else for (const dir of dirs) this.watcher.add(dir);
    this.paths.dirs.forEach((d, i) => dirs.includes(d) && this.watching.add(i));
  }

  // -------------------------------------------------------------------------------------------------
  // Scanning

  private async scan(): Promise<void> {
    this.loader.formats.forget();
    this.permissions?.forget();
    const found = new Map<string, Placement>();
    const problems = (this.scanProblems = new Map());
    try {
      for (let i = 0; i < this.paths.given.length; i++) {
        const dir = this.paths.realDir(i);
        if (dir === null) continue;
        for (const [file, rel] of this.paths.list(i, dir)) if (!found.has(file)) found.set(file, { dir: i, rel });
      }
    } finally {
      this.scanProblems = null;
    }
    const changed: string[] = [];
    for (const file of found.keys()) {
      if (!this.files.has(file) || this.loader.stale(file)) changed.push(file);
    }
    for (const file of this.files.keys()) if (!found.has(file)) changed.push(file);
    // Helpers are not found by the glob (a `.json`, say) but may have changed too.
    for (const file of this.reachedHelpers()) {
      if (this.loader.stale(file)) changed.push(file);
    }
    this.process(changed, false, found);
    for (const [message, problem] of problems) if (!this.lastProblems.has(message)) this.report(problem);
    this.lastProblems = new Set(problems.keys());
    if (this.active && this.options.watch && this.watcher.open) await this.watch();
  }

  /** Files reached by loads that are not plugin files themselves. */
  private *reachedHelpers(): IterableIterator<string> {
    const seen = new Set<string>();
    for (const f of this.files.values()) {
      for (const t of f.touched) {
        if (!this.files.has(t) && !seen.has(t)) {
          seen.add(t);
          yield t;
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Loading

  /**
   * Brings the registry up to date with `paths`, which may have been added, changed or deleted (or be
   * folders that were removed). `watched` says the paths come from the watcher: their failures are
   * reported only once the file has stayed as it is for a while, since it may still be being written.
   * `found` (from a scan) says which paths are plugin files, saving a status call each.
   */
  private process(paths: string[], watched: boolean, found?: Map<string, Placement>): void {
    const seen = new Map<string, boolean>();
    const isPluginFile = (path: string): boolean => {
      if (found !== undefined) return found.has(path);
      let is = seen.get(path);
      if (is === undefined) seen.set(path, (is = this.paths.isPluginFile(path)));
      return is;
    };
    const placement = found === undefined ? (path: string) => this.paths.placement(path) : (path: string) => found.get(path) ?? null;
    if (!this.active && watched) return;
    // Folder modes may have changed since the last look: check them afresh (a few status calls a batch).
    if (watched) this.permissions?.forget();
    const reached = new Set<string>();
    for (const f of this.files.values()) for (const t of f.touched) reached.add(t);
    const changed = new Set<string>();
    for (const path of found === undefined ? this.expand(paths) : paths) {
      const known = this.files.has(path);
      if (known || reached.has(path) || placement(path) !== null) {
        if (!this.loader.unchanged(path) || known !== isPluginFile(path)) changed.add(path);
      } else {
        // A package.json may change the format of the .js files below it; a removed folder takes its files.
        const under = basename(path) === 'package.json' ? dirname(path) + sep : path + sep;
        if (under !== path + sep) this.loader.formats.forget();
        for (const file of this.files.keys()) if (file.startsWith(under)) changed.add(file);
      }
    }
    if (changed.size === 0) return;

    const dropped = this.loader.invalidate(changed);
    const names = new Set<string>();
    const fresh = new Map<string, Declarations>();
    for (const path of changed) {
      const known = this.files.has(path);
      if (known && !isPluginFile(path)) this.forget(path, names);
      else if (!known && isPluginFile(path)) this.adoptNew(path, placement(path)!);
    }
    const affected = [...this.files.values()].filter((f) => dropped.has(f.file) || reachesAny(f, changed));
    affected.sort(byPrecedence);
    for (const f of affected) this.reload(f, watched, names, fresh);
    for (const name of names) this.settleName(name, fresh, watched);
    this.loader.prune(this.files.keys());
    if (watched) this.verify(changed);
  }

  /**
   * `paths`, plus, for each that is now a folder (new, or put in place of another folder or of a file), the
   * plugin files in it and the known files below it: the watcher may report a folder and nothing inside.
   */
  private expand(paths: string[]): Iterable<string> {
    const out = new Set(paths);
    for (const path of paths) {
      const inside = this.paths.listFolder(path);
      if (inside === null) continue;
      for (const file of inside) out.add(file);
      for (const file of this.files.keys()) if (file.startsWith(path + sep)) out.add(file);
    }
    return out;
  }

  private adoptNew(file: string, at: { dir: number; rel: string }): void {
    const f: PluginFile = { file, dir: at.dir, rel: at.rel, name: moduleNameOf(file), module: false, touched: new Set() };
    this.files.set(file, f);
    let named = this.byName.get(f.name);
    if (named === undefined) this.byName.set(f.name, (named = new Set()));
    named.add(f);
  }

  private forget(file: string, names: Set<string>): void {
    const f = this.files.get(file)!;
    this.files.delete(file);
    const named = this.byName.get(f.name)!;
    named.delete(f);
    if (named.size === 0) this.byName.delete(f.name);
    this.timers.cancel(file);
    this.refusedNames.forget(file);
    names.add(f.name);
  }

  /** Loads one plugin file anew and notes what it now is. */
  private reload(f: PluginFile, watched: boolean, names: Set<string>, fresh: Map<string, Declarations>): void {
    this.timers.cancel(f.file);
    if (this.refusedNames.refuses(f.file, f.name, (message) => this.report({ file: f.file, message }))) return;
    const result = guardedLoad(this.loader, this.options.guard, f.file);
    f.touched = result.touched;
    if (!result.ok) {
      this.fail(f, result.message, result.file, watched);
      return;
    }
    let decls: Declarations;
    try {
      decls = this.host.read(f.name, result.exports as object);
    } catch (err) {
      this.fail(f, `reading the exports of ${f.file} threw: ${errorText(err)}`, f.file, watched);
      return;
    }
    const wasModule = f.module;
    f.module = declaresAnything(decls);
    if (f.module) fresh.set(f.file, decls);
    if (f.module || wasModule) names.add(f.name);
  }

  /**
   * Makes the registry serve the right file for module `name`: the first of the files that claim it
   * (earlier folder, then path order), or none. The others are load errors naming both files.
   */
  private settleName(name: string, fresh: Map<string, Declarations>, watched: boolean): void {
    const claims = [...(this.byName.get(name) ?? [])].filter((f) => f.module).sort(byPrecedence);
    const current = this.installed.get(name);
    const winner = claims[0];
    if (winner === undefined) {
      if (current !== undefined) {
        this.installed.delete(name);
        try {
          this.host.uninstall(name);
        } catch (err) {
          this.report({ module: name, file: current, message: `a listener of the unload event threw: ${errorText(err)}` });
        }
      }
      return;
    }
    let decls = fresh.get(winner.file);
    if (decls === undefined && winner.file !== current) decls = this.takeOver(winner, watched);
    if (decls !== undefined) this.serve(winner, decls, current);
    for (const other of claims.slice(1)) {
      if (fresh.has(other.file) || other.file === current) {
        this.report({
          module: name,
          file: other.file,
          message:
            `module name "${name}" of ${other.file} is already taken by ${winner.file} ` +
            `(the earlier plugin folder, then path order, wins); rename one of the files`,
        });
      }
    }
  }

  /** The declarations of a file that takes a module name over (the previous holder went away). */
  private takeOver(f: PluginFile, watched: boolean): Declarations | undefined {
    const result = guardedLoad(this.loader, this.options.guard, f.file);
    f.touched = result.touched;
    if (!result.ok) {
      this.fail(f, result.message, result.file, watched);
      return undefined;
    }
    try {
      return this.host.read(f.name, result.exports as object);
    } catch (err) {
      this.fail(f, `reading the exports of ${f.file} threw: ${errorText(err)}`, f.file, watched);
      return undefined;
    }
  }

  private serve(f: PluginFile, decls: Declarations, current: string | undefined): void {
    const origin = this.host.originOf(f.name);
    if (origin !== undefined && origin !== 'folder') {
      this.report({
        module: f.name,
        file: f.file,
        message: `module name "${f.name}" is already taken by a module with origin "${origin}"; ${f.file} is not loaded (rename the file)`,
      });
      return;
    }
    if (decls.problems.length > 0 && current === f.file) {
      // A new version with bad exports does not replace a good one.
      for (const problem of decls.problems) {
        this.report({ module: f.name, file: f.file, ...problem, message: `${problem.message}; the previous version keeps serving` });
      }
      return;
    }
    let installed: boolean;
    try {
      installed = this.host.install(f.name, decls, 'folder', f.file);
    } catch (err) {
      // A listener of `load` or `reload` threw after the registry took the new version.
      installed = this.host.originOf(f.name) === 'folder';
      this.report({ module: f.name, file: f.file, message: `a listener of the load events threw: ${errorText(err)}` });
    }
    if (installed) this.installed.set(f.name, f.file);
  }

  /** A failed load: reported now, or (for a file just written) once it has stayed as it is for a while. */
  private fail(f: PluginFile, message: string, fault: string, watched: boolean): void {
    const record = () => {
      const serving = this.installed.get(f.name) === f.file ? '; the previous version keeps serving' : '';
      this.report({ module: f.name, file: f.file, message: message + serving });
    };
    if (!watched) return record();
    this.timers.reportWhenSettled(f.file, fault, () => this.active, record);
  }

  /**
   * The watcher may miss a change that follows another closely: after loading, each file is compared with
   * what was read, now and once more a little later, and looked at again if it differs.
   */
  private verify(files: Set<string>): void {
    this.timers.checkNowAndLater(() => {
      for (const file of files) {
        const read = this.loader.stampRead(file);
        if (read !== undefined && read !== currentStamp(file)) this.watcher.touch(file);
      }
    });
  }

  /**
   * A problem of a folder or a link, found by a scan (reported at its end, unless the previous scan found it
   * too) or by a watch event (reported now).
   */
  private scanProblem(error: { file: string; message: string }): void {
    if (this.scanProblems !== null) this.scanProblems.set(error.message, error);
    else this.report(error);
  }

  private report(error: { module?: string; file?: string; export?: string; message: string }): void {
    try {
      this.host.loadError(error);
    } catch {
      // A throwing `loadError` listener must not stop the folder work.
    }
  }

}

/** The duplicate rule's order: earlier folder first, then plain code-unit order of the relative path. */
function byPrecedence(a: PluginFile, b: PluginFile): number {
  if (a.dir !== b.dir) return a.dir - b.dir;
  return a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0;
}

function reachesAny(f: PluginFile, changed: Set<string>): boolean {
  for (const t of f.touched) if (changed.has(t)) return true;
  return false;
}
