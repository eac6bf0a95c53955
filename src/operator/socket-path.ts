/**
 * The rules a Unix domain socket path must meet before the attach socket is served on it or connected to:
 * a length the platform can bind without cutting it short, a folder that exists, and, for the side that
 * connects, a socket nobody else could have put there.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The longest socket path, in bytes, that this platform binds and connects to as given: the size of
 * `sun_path` (108 bytes on Linux, which needs no terminating NUL there; 104 on macOS and the BSDs). A
 * longer path is not refused by Node: it is silently cut to this length, so a host would listen, and an
 * operator connect, somewhere else.
 */
export const SOCKET_PATH_MAX = process.platform === 'linux' ? 108 : 104;

/** Why `path` is too long to be a socket path here, or null. */
export function lengthProblem(path: string): string | null {
  const bytes = Buffer.byteLength(path);
  if (bytes <= SOCKET_PATH_MAX) return null;
  return (
    `the path is ${bytes} bytes long, over this platform's socket path limit of ${SOCKET_PATH_MAX} bytes ` +
    `(a longer one would be cut short, and the socket made somewhere else); choose a shorter path, such as one under /run or /tmp`
  );
}

/** Why no socket can be made at `path` because of its folder (missing, or not a folder), or null. */
export async function folderProblem(path: string): Promise<string | null> {
  const folder = dirname(path);
  try {
    if (!(await stat(folder)).isDirectory()) return `${folder} is not a folder; choose a path in a folder`;
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `the folder ${folder} does not exist: create it first (mkdir -p '${folder}') or choose another path`;
    if (code === 'ENOTDIR') return `${folder} is not a folder (a part of it is a file); choose a path in a folder`;
    return null; // anything else (no permission, say) is for listen() to tell
  }
}

/**
 * Why the socket at `path` must not be trusted by the side that connects, or null when it may be: it is not
 * a socket, it belongs to a user other than this process's user or root, or a folder on its way is
 * world-writable without the sticky bit (anyone could have replaced it). A missing path is null: connecting
 * says so. Whoever made a socket that fails these rules could be posing as the host, to read what is typed.
 */
export async function trustProblem(path: string): Promise<string | null> {
  let stats;
  try {
    stats = await lstat(path);
  } catch {
    return null;
  }
  if (stats.isSymbolicLink()) {
    return `${path} is a symbolic link, not a socket: pass the socket's own path (the path the host gave to serveRepl)`;
  }
  if (!stats.isSocket()) return `${path} is not a socket: pass the path the host gave to serveRepl`;
  const me = process.getuid?.();
  if (me !== undefined && stats.uid !== me && stats.uid !== 0) {
    return (
      `${path} is owned by uid ${stats.uid}, not by you (uid ${me}) or root: that user could be posing as the host ` +
      `to read what you type; attach as the user that runs the host`
    );
  }
  let folder: string;
  try {
    folder = await realpath(dirname(path));
  } catch {
    return null;
  }
  for (;;) {
    const mode = (await stat(folder).catch(() => null))?.mode;
    if (mode !== undefined && (mode & 0o002) !== 0 && (mode & 0o1000) === 0) {
      const shown = (mode & 0o7777).toString(8).padStart(4, '0');
      return (
        `the folder ${folder} is world-writable (mode ${shown}) without the sticky bit: anyone could have replaced the socket; ` +
        `fix it with: chmod +t '${folder}' (or chmod o-w '${folder}'), or have the host serve in a folder of its own`
      );
    }
    const up = dirname(folder);
    if (up === folder) return null;
    folder = up;
  }
}
