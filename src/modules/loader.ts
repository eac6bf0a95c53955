/**
 * Loading plugin files so that a reload frees the old version. Node's own loaders keep every module they
 * ever linked (an ES module forever, a CommonJS one through its parent's `children`), so files under the
 * plugin folders are evaluated here instead: the source is compiled with `vm.compileFunction` inside a
 * CommonJS-style wrapper, and nothing but this loader's cache refers to the result. Dropping a file from
 * the cache, and the registry dropping its plugins, leaves the old version to the garbage collector.
 *
 * ES module files are converted to CommonJS with esbuild first and then evaluated the same way; the
 * limits that follow (no top-level await, `import.meta` with `url`, `filename`, `dirname` and `resolve`
 * only, dynamic `import()` not reloaded) are in the README.
 *
 * Relative `require`s and `import`s that land in a plugin folder are loaded here too and remembered as
 * dependencies, so that changing a helper file reloads the modules that use it. Everything else (npm
 * packages, Node's built-ins, files outside the folders) goes to Node's own `require` for that file.
 */
import { createRequire } from 'node:module';
import { openSync, fstatSync, readFileSync, readSync, realpathSync, statSync, closeSync, type Stats } from 'node:fs';
import { hash as digest } from 'node:crypto';
import { dirname, isAbsolute } from 'node:path';
import { FormatOracle, isModuleSyntaxError } from './module-format.js';
import { FileFailure, isFileFailure, compileCommonJs, compileModule, importMeta, syntaxMessage, where } from './compile.js';
import { dropSourceMap } from './esm-stacks.js';
import type { PermissionCheck } from './permissions.js';
import { errorText } from '../core/declarations.js';

/** Node's own require, for what every plugin's `require` shares: the module cache and the main module. */
const NODE = createRequire(import.meta.url);

/** A plugin file's `require`. */
interface PluginRequire {
  (spec: string): unknown;
  resolve: (spec: string, opts?: { paths?: string[] }) => string;
  cache: NodeJS.Require['cache'];
  main: NodeJS.Require['main'];
}

/** The `module` object a plugin file sees. */
interface PluginModule {
  id: string;
  filename: string;
  path: string;
  exports: unknown;
  loaded: boolean;
  children: never[];
  paths: string[];
  require: PluginRequire;
}

/** One evaluated file: its module object and the plugin-folder files it required. */
interface Entry {
  readonly file: string;
  readonly module: PluginModule;
  readonly deps: Set<string>;
}

/**
 * The folders a permission check of `file` looked at: from the folder holding it up to `root`, and the
 * same for where it really is when it is reached through a symbolic link.
 */
function foldersBetween(root: string, file: string): string[] {
  const dirs = new Set<string>();
  const up = (from: string) => {
    for (let dir = dirname(from); ; dir = dirname(dir)) {
      dirs.add(dir);
      if (dir === root || dirname(dir) === dir) break;
    }
  };
  up(file);
  try {
    up(realpathSync(file));
  } catch {
    // gone: its folders by name are all there is
  }
  return [...dirs];
}

/** The stamps of `dirs`, one string: it changes when any of them is chmod-ed, chown-ed or replaced. */
function foldersStamp(dirs: readonly string[]): string {
  return dirs
    .map((d) => {
      try {
        return stampOf(statSync(d));
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/** What loading a file gave: its exports, or why it failed. Either way, the plugin-folder files it reached. */
export type LoadResult =
  | { ok: true; exports: unknown; touched: Set<string> }
  | { ok: false; message: string; file: string; touched: Set<string> };

/**
 * A status's identity for change checks: size, modification and change times, inode. The change time moves
 * on `chmod` too, so that a file refused for its permissions is looked at again once they are fixed.
 */
export function stampOf(stats: Pick<Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino'>): string {
  return `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}`;
}

export interface LoaderOptions {
  /** The plugin folder that holds `file`, or undefined when the file is Node's to load. */
  rootOf(file: string): string | undefined;
  /** The permission check, or null when permissions are not checked. */
  permissions: PermissionCheck | null;
}

/** Loads, reloads and forgets files of the plugin folders. Synchronous, like `require`. */
export class Loader {
  private readonly entries = new Map<string, Entry>();
  /** The content hash of each file as last read (loaded or failed): unchanged files are not reloaded. */
  private readonly hashes = new Map<string, string>();
  /** The stamp of each file as last read, for checks that the file did not change while it loaded. */
  private readonly stamps = new Map<string, string>();
  /** Files refused for their permissions, with the folders above them as they were then. */
  private readonly refusedIn = new Map<string, { dirs: string[]; stamp: string }>();
  readonly formats = new FormatOracle();
  /** The files reached by the load in progress. */
  private touched: Set<string> | null = null;

  constructor(private readonly options: LoaderOptions) {}

  /**
   * Loads `file` (from the cache when it is there and unchanged since) and returns its exports, or the
   * failure of the first file at fault. Never throws.
   */
  load(file: string): LoadResult {
    const touched = new Set<string>();
    this.touched = touched;
    try {
      return { ok: true, exports: this.require(file), touched };
    } catch (err) {
      if (isFileFailure(err)) return { ok: false, message: err.message, file: err.file, touched };
      return { ok: false, message: errorText(err), file, touched };
    } finally {
      this.touched = null;
    }
  }

  /** True when `file`'s content is what was last read (a failed read counts as changed). */
  unchanged(file: string): boolean {
    const known = this.hashes.get(file);
    if (known === undefined) return false;
    try {
      return hash(readFileSync(file)) === known;
    } catch {
      return false;
    }
  }

  /**
   * Notes `file` as it is now as read, without running it (a load guard refused it): a scan or a watch
   * event then takes it up again only once it changes, instead of refusing it anew each time.
   */
  noteRefused(file: string): void {
    try {
      const bytes = readFileSync(file);
      this.stamps.set(file, stampOf(statSync(file)));
      this.hashes.set(file, hash(bytes));
    } catch {
      // gone or unreadable: it counts as changed, as any file that could not be read
    }
  }

  /** The stamp of `file` when it was last read, if it was. */
  stampRead(file: string): string | undefined {
    return this.stamps.get(file);
  }

  /**
   * True when `file` changed since it was last read, or was refused for the permissions of a folder
   * above it that changed since (a `chmod o-w` on the folder, which does not touch the file's own stamp).
   */
  stale(file: string): boolean {
    let now: string;
    try {
      now = stampOf(statSync(file));
    } catch {
      now = 'missing';
    }
    if (this.stamps.get(file) !== now) return true;
    const refused = this.refusedIn.get(file);
    return refused !== undefined && foldersStamp(refused.dirs) !== refused.stamp;
  }

  /** True when `file` is in the cache (evaluated and not invalidated since). */
  has(file: string): boolean {
    return this.entries.has(file);
  }

  /**
   * Drops `changed` files from the cache, with every cached file that required them, directly or not.
   * Returns all the files dropped or named.
   */
  invalidate(changed: Iterable<string>): Set<string> {
    const out = new Set(changed);
    for (let grew = true; grew; ) {
      grew = false;
      for (const entry of this.entries.values()) {
        if (out.has(entry.file)) continue;
        for (const dep of entry.deps) {
          if (out.has(dep)) {
            out.add(entry.file);
            grew = true;
            break;
          }
        }
      }
    }
    for (const file of out) this.entries.delete(file);
    return out;
  }

  /** Keeps the files `roots` reach and forgets every other one, so that old helpers can be freed. */
  prune(roots: Iterable<string>): void {
    const keep = new Set<string>();
    const visit = (file: string): void => {
      if (keep.has(file)) return;
      keep.add(file);
      const entry = this.entries.get(file);
      if (entry !== undefined) for (const dep of entry.deps) visit(dep);
    };
    for (const root of roots) visit(root);
    for (const file of this.entries.keys()) if (!keep.has(file)) this.entries.delete(file);
    for (const file of this.hashes.keys()) {
      if (!keep.has(file)) {
        this.hashes.delete(file);
        this.stamps.delete(file);
        dropSourceMap(file);
      }
    }
  }

  /** The exports of a plugin-folder file: from the cache, or evaluated now. */
  private require(file: string): unknown {
    const cached = this.entries.get(file);
    if (cached !== undefined) {
      this.touch(cached);
      return cached.module.exports;
    }
    this.touched?.add(file);
    const text = this.read(file);
    const format = this.formats.formatOf(file);
    const module = newModule(file);
    const entry: Entry = { file, module, deps: new Set() };
    module.require = this.requireFor(entry);
    if (format === 'json') {
      try {
        module.exports = JSON.parse(text);
      } catch (err) {
        throw new FileFailure(file, `${file} is not valid JSON: ${errorText(err)}`);
      }
      module.loaded = true;
      this.entries.set(file, entry);
      return module.exports;
    }

    let run: (...args: unknown[]) => unknown;
    let esm = format === 'module';
    if (!esm) {
      try {
        run = compileCommonJs(file, text);
      } catch (err) {
        if (format === 'detect' && isModuleSyntaxError(err)) esm = true;
        else throw new FileFailure(file, syntaxMessage(file, err));
      }
    }
    if (esm) run = compileModule(file, text);
    // Registered before it runs, so that a require cycle sees the partial exports, as in Node.
    this.entries.set(file, entry);
    try {
      const args = [module.exports, module.require, module, file, module.path];
      if (esm) args.push(importMeta(file));
      run!.apply(module.exports, args);
    } catch (err) {
      this.entries.delete(file);
      if (isFileFailure(err)) {
        throw new FileFailure(err.file, err.file === file ? err.message : `${err.message} (required by ${file})`);
      }
      throw new FileFailure(file, `${file} threw while loading${where(file, err)}: ${errorText(err)}`);
    }
    module.loaded = true;
    return module.exports;
  }

  /** Reads a file, checking its permissions on the open file so that the checked file is the file read. */
  private read(file: string): string {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new FileFailure(file, `cannot read ${file}: ${errorText(err)}`);
    }
    let bytes: Buffer;
    try {
      const stats = fstatSync(fd);
      this.stamps.set(file, stampOf(stats));
      const root = this.options.rootOf(file);
      const problem = root === undefined ? null : (this.options.permissions?.problem(root, file, stats) ?? null);
      if (problem !== null) {
        const dirs = foldersBetween(root!, file);
        this.refusedIn.set(file, { dirs, stamp: foldersStamp(dirs) });
        throw new FileFailure(file, problem);
      }
      this.refusedIn.delete(file);
      bytes = readAll(fd, stats.size);
    } catch (err) {
      if (isFileFailure(err)) throw err;
      throw new FileFailure(file, `cannot read ${file}: ${errorText(err)}`);
    } finally {
      closeSync(fd);
    }
    this.hashes.set(file, hash(bytes));
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // A hashbang line is fine for Node but not inside a function body.
    if (text.startsWith('#!')) text = '//' + text.slice(2);
    return text;
  }

  /** The `require` a plugin file sees: its own folder files come from this loader, the rest from Node. */
  private requireFor(entry: Entry): PluginModule['require'] {
    let native: NodeJS.Require | undefined;
    const nodeRequire = (): NodeJS.Require => (native ??= createRequire(entry.file));
    const require = ((spec: string): unknown => {
      if (typeof spec === 'string' && isPathSpec(spec)) {
        const target = nodeRequire().resolve(spec);
        if (this.owns(target)) {
          entry.deps.add(target);
          return this.require(target);
        }
      }
      return nodeRequire()(spec);
    }) as PluginRequire;
    const resolve = (spec: string, opts?: { paths?: string[] }): string => nodeRequire().resolve(spec, opts);
    resolve.paths = (spec: string): string[] | null => nodeRequire().resolve.paths(spec);
    // Node's require for the file is only made when the plugin first needs it.
    require.resolve = resolve;
    require.cache = NODE.cache;
    require.main = NODE.main;
    return require;
  }

  /** True for files this loader loads: JavaScript and JSON under a plugin folder, outside `node_modules`. */
  private owns(file: string): boolean {
    if (this.options.rootOf(file) === undefined) return false;
    return !/[\\/]node_modules[\\/]/.test(file) && !file.endsWith('.node');
  }

  /** Adds a cached file and everything it requires to the current load's reach. */
  private touch(entry: Entry): void {
    const touched = this.touched;
    if (touched === null || touched.has(entry.file)) return;
    touched.add(entry.file);
    for (const dep of entry.deps) {
      const next = this.entries.get(dep);
      if (next !== undefined) this.touch(next);
      else touched.add(dep);
    }
  }
}

function newModule(file: string): PluginModule {
  return {
    id: file,
    filename: file,
    path: dirname(file),
    exports: {},
    loaded: false,
    children: [],
    paths: [],
    require: undefined as unknown as PluginRequire,
  };
}

function isPathSpec(spec: string): boolean {
  return (
    spec === '.' ||
    spec === '..' ||
    spec.startsWith('./') ||
    spec.startsWith('../') ||
    spec.startsWith('.\\') ||
    spec.startsWith('..\\') ||
    isAbsolute(spec)
  );
}

/** Reads an open file of `size` bytes in one call when it can (the size is known from its status). */
function readAll(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, null);
    if (n === 0) break;
    got += n;
  }
  // A file that changes size meanwhile is read as far as its status said; its stamp then differs from the
  // file's, which makes the folder look at it again.
  return got < size ? buf.subarray(0, got) : buf;
}

function hash(bytes: Buffer): string {
  return digest('sha1', bytes, 'base64');
}
