/**
 * The sshd-style safety check of plugin code: a file is refused when it, or a folder between the plugin
 * folder and it (the plugin folder included, its parents not), is world-writable or owned by a user other
 * than the process's own user or root. Anyone who can change such a file or folder could make the host run
 * their code. The folders checked are those of the file's real path: a symbolic link is judged by where the
 * code it leads to lives. On Windows, where POSIX modes and owners mean nothing, every file passes.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, relative, isAbsolute, sep } from 'node:path';

/** What the check needs of a file's or folder's status. */
export type Ownership = Pick<Stats, 'mode' | 'uid'>;

/**
 * Checks plugin files against their plugin folder. Folder results are remembered until `forget()`, so a
 * scan of thousands of files stats each folder once.
 */
export class PermissionCheck {
  private readonly folderProblem = new Map<string, string | null>();
  private readonly uid: number | undefined;

  constructor() {
    this.uid = process.platform === 'win32' || typeof process.getuid !== 'function' ? undefined : process.getuid();
  }

  /**
   * Why `file` (whose status is `stats`, taken from the open file so that the checked file is the one read)
   * must not be loaded from plugin folder `root`, or null when it may.
   */
  problem(root: string, file: string, stats: Ownership): string | null {
    if (this.uid === undefined) return null;
    const own = this.looseness('plugin file', file, stats);
    if (own !== null) return own;
    // The folders that matter are those that hold the code: a symbolic link is followed to its target.
    let real = file;
    try {
      real = realpathSync.native(file);
    } catch {
      // Gone since it was opened: its folders by name are all there is to check.
    }
    const problem = this.folders(root, dirname(real));
    return problem === null || real === file ? problem : `${problem} (${file} is a symbolic link to ${real})`;
  }

  /**
   * The first fault of the folders from `root` down to `dir`; for a `dir` outside `root` (where a link may
   * lead), of `dir` itself.
   */
  private folders(root: string, dir: string): string | null {
    const rel = relative(root, dir);
    if (rel.startsWith('..') || isAbsolute(rel)) return this.folder(dir);
    let at = root;
    let problem = this.folder(at);
    for (const part of rel === '' ? [] : rel.split(sep)) {
      if (problem !== null) break;
      at = at + sep + part;
      problem = this.folder(at);
    }
    return problem;
  }

  /** Drops remembered folder results (call it before a rescan: modes may have changed). */
  forget(): void {
    this.folderProblem.clear();
  }

  private folder(dir: string): string | null {
    let problem = this.folderProblem.get(dir);
    if (problem !== undefined) return problem;
    try {
      problem = this.looseness('plugin folder', dir, statSync(dir));
    } catch (err) {
      problem = `plugin folder ${dir} cannot be checked: ${(err as Error).message}`;
    }
    this.folderProblem.set(dir, problem);
    return problem;
  }

  /** The fault of one file or folder (`what` names it in the message): world-writable, or owned by someone else. */
  looseness(what: string, path: string, stats: Ownership): string | null {
    if (this.uid === undefined) return null;
    if ((stats.mode & 0o002) !== 0) {
      const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
      return (
        `${what} ${path} is world-writable (mode ${mode}): anyone on this machine could change the code the host runs; ` +
        `refused (fix it with: chmod o-w '${path}', or set checkPermissions: false in development)`
      );
    }
    if (stats.uid !== this.uid && stats.uid !== 0) {
      return (
        `${what} ${path} is owned by uid ${stats.uid}, not by this process's user (uid ${this.uid}) or root: ` +
        `that user could change the code the host runs; refused (fix it with: chown ${this.uid} '${path}', ` +
        `or set checkPermissions: false in development)`
      );
    }
    return null;
  }
}
