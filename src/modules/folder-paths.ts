/**
 * Where plugin folders are and what in them is a plugin file: folders as real paths, the glob listing of
 * each, symbolic links (followed only to files inside their folder), and what the watcher may ignore.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { extname, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { errorText } from '../core/declarations.js';

/** The file extensions a plugin folder's modules may have. */
export const PLUGIN_EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);
/** Files chokidar keeps watching besides plugin files: helpers may be JSON. */
const WATCHED_EXTENSIONS = new Set([...PLUGIN_EXTENSIONS, '.json']);
/** Where a path stands: a plugin file of folder `dir`, or nothing to load. */
export type Placement = { dir: number; rel: string } | null;

/** The plugin folders of one extension, as given and as real paths. */
export class FolderPaths {
  /** The folders as given, resolved against the current directory. */
  readonly given: string[];
  /** The folders as real paths (symbolic links resolved), once they exist. */
  readonly dirs: string[];

  constructor(
    dirs: readonly string[],
    /** Told about a folder or link that cannot be used. */
    private readonly problem: (error: { file: string; message: string }) => void,
  ) {
    this.given = dirs.map((d) => resolve(d));
    this.dirs = [...this.given];
  }

  /** Folder `i` as a real path, or null (with a load error) when it is missing. */
  realDir(i: number): string | null {
    const given = this.given[i]!;
    try {
      if (!statSync(given).isDirectory()) throw new Error('not a folder');
      this.dirs[i] = realpathSync(given);
      return this.dirs[i]!;
    } catch (err) {
      this.problem({
        file: given,
        message: `plugin folder ${given} cannot be scanned (${errorText(err)}): create it, or remove it from pluginDirs`,
      });
      return null;
    }
  }

  /**
   * The plugin files of folder `i` with their paths relative to it, in path order; symbolic links leading
   * outside are reported, not followed.
   */
  async list(i: number, dir: string): Promise<[string, string][]> {
    const entries = await fg.glob('**/*.{js,cjs,mjs}', {
      cwd: dir,
      dot: false,
      onlyFiles: false,
      followSymbolicLinks: false,
      ignore: ['**/node_modules/**'],
      objectMode: true,
    });
    const out: [string, string][] = [];
    for (const entry of entries) {
      const file = sep === '/' ? `${dir}/${entry.path}` : dir + sep + entry.path.split('/').join(sep);
      if (entry.dirent.isFile() || (entry.dirent.isSymbolicLink() && this.linkInside(i, file))) out.push([file, entry.path]);
    }
    return out.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }

  /** True for a link to a file inside folder `i`; a link leading outside is a load error. */
  linkInside(i: number, link: string): boolean {
    let target: string;
    try {
      target = realpathSync(link);
    } catch (err) {
      this.problem({ file: link, message: `symbolic link ${link} cannot be followed: ${errorText(err)}` });
      return false;
    }
    if (!within(this.dirs[i]!, target)) {
      this.problem({
        file: link,
        message: `symbolic link ${link} leads outside its plugin folder (to ${target}) and is not followed; copy the file into the folder instead`,
      });
      return false;
    }
    return isFile(target);
  }

  /** The folder that holds `file` (as a real path), or undefined. */
  rootOf(file: string): string | undefined {
    return this.dirs.find((dir) => within(dir, file));
  }

  /** Where `path` would stand as a plugin file, by its name alone. */
  placement(path: string): Placement {
    if (!PLUGIN_EXTENSIONS.has(extname(path))) return null;
    const dir = this.dirs.findIndex((d) => within(d, path));
    if (dir < 0) return null;
    const rel = relative(this.dirs[dir]!, path).split(sep).join('/');
    if (rel.split('/').some((part) => part.startsWith('.') || part === 'node_modules')) return null;
    return { dir, rel };
  }

  /** True when `path` is now a plugin file: placed as one, and a file (or a link to a file inside its folder). */
  isPluginFile(path: string): boolean {
    const at = this.placement(path);
    if (at === null) return false;
    try {
      const stats = lstatSync(path);
      if (stats.isFile()) return true;
      return stats.isSymbolicLink() && this.linkInside(at.dir, path);
    } catch {
      return false;
    }
  }

  /** What chokidar need not watch: dependencies, dot-folders, files that can be neither plugin nor helper. */
  ignored(path: string, isFile: boolean | undefined): boolean {
    const dir = this.dirs.find((d) => within(d, path) || d === path);
    if (dir === undefined || dir === path) return false;
    const parts = relative(dir, path).split(sep);
    if (parts.some((part) => part.startsWith('.') || part === 'node_modules')) return true;
    return isFile === true && !WATCHED_EXTENSIONS.has(extname(path));
  }
}

/** True when `path` (absolute and normalized, as every path here is) lies strictly inside folder `dir`. */
export function within(dir: string, path: string): boolean {
  return path.length > dir.length + 1 && path.startsWith(dir) && path[dir.length] === sep;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
