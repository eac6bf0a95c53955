/**
 * Where plugin folders are and what in them is a plugin file: folders as real paths, the listing of each
 * (a walk that skips dot-names and `node_modules`, and reports a subfolder it cannot read), symbolic links
 * (followed only to files inside their folder), and what the watcher may ignore.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { extname, relative, resolve, sep } from 'node:path';
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
   * The plugin files of folder `i` (whose real path is `dir`), or of its subfolder `under`, with their paths
   * relative to the folder, in path order. Symbolic links leading outside are reported, not followed; a
   * subfolder that cannot be read is reported, and the rest of the folder is listed.
   */
  list(i: number, dir: string, under: string = dir): [string, string][] {
    const out: [string, string][] = [];
    const folders = [under];
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      let entries: Dirent[];
      try {
        entries = readdirSync(folder, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue; // gone, or no longer a folder: nothing to list
        this.problem({
          file: folder,
          message:
            `plugin ${folder === dir ? 'folder' : 'subfolder'} ${folder} cannot be read (${errorText(err)}): the plugin files in it ` +
            `are not loaded; let the host's user read and enter it (chmod u+rx), or move it out of the plugin folder`,
        });
        continue;
      }
      for (const entry of entries) {
        const name = entry.name;
        if (name.startsWith('.')) continue;
        const path = folder + sep + name;
        const kind = kindOf(entry, path);
        if (kind === 'folder') {
          if (name !== 'node_modules') folders.push(path);
        } else if (PLUGIN_EXTENSIONS.has(extname(name)) && (kind === 'file' || (kind === 'link' && this.linkInside(i, path)))) {
          const rel = path.slice(dir.length + 1);
          out.push([path, sep === '/' ? rel : rel.split(sep).join('/')]);
        }
      }
    }
    return out.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }

  /** The plugin files in `path` when it is a folder (itself, not a link) inside a plugin folder; else null. */
  listFolder(path: string): string[] | null {
    const i = this.dirs.findIndex((dir) => dir === path || within(dir, path));
    if (i < 0 || this.ignored(path, false)) return null;
    try {
      if (!lstatSync(path).isDirectory()) return null;
    } catch {
      return null;
    }
    return this.list(i, this.dirs[i]!, path).map(([file]) => file);
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

/** What a folder entry is; the rare file system that does not say is asked with lstat. */
function kindOf(entry: Dirent, path: string): 'file' | 'folder' | 'link' | 'other' {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'folder';
  if (entry.isSymbolicLink()) return 'link';
  try {
    const stats = lstatSync(path);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : stats.isSymbolicLink() ? 'link' : 'other';
  } catch {
    return 'other';
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
