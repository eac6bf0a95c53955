/**
 * Unpacking a package tarball into a staging folder, safely: the archive is decompressed in memory with a
 * cap on its output (a decompression bomb stops at the cap), every entry is checked before anything is
 * written (type, path, link target, count, size), and only then extracted with the `tar` package, which
 * checks paths once more. Modes lose group and world write bits. Nothing in the archive is run.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Parser, Unpack, type ReadEntry } from 'tar';
import { installError } from './errors.js';
import { checkEntry, printable, Tally, tooManyBytes, type EntryKind, type InstallLimits } from './limits.js';

const gunzipCapped = promisify(gunzip);

/** Tar entry types a package may hold, and what each is. Devices, FIFOs and the rest are refused. */
const KINDS: Partial<Record<string, EntryKind>> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'folder',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
};

/** The archive `bytes` decompressed (when gzipped), at most about `maxBytes` plus room for headers. */
export async function tarBytes(bytes: Buffer, what: string, limits: Required<InstallLimits>): Promise<Buffer> {
  // Each entry costs a header block and at most one block of padding besides its bytes.
  const cap = limits.maxBytes + (limits.maxEntries + 4) * 1024;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return await gunzipCapped(bytes, { maxOutputLength: cap });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooManyBytes(what, limits.maxBytes);
      throw installError('EBADPACKAGE', `${what} is not a readable gzip archive (${(err as Error).message}); give the .tgz that npm pack made`, err);
    }
  }
  if (bytes.length > cap) throw tooManyBytes(what, limits.maxBytes);
  return bytes;
}

/**
 * Checks every entry of the (decompressed) tar archive `tar` without writing anything. Entries are taken
 * as they will be extracted: below their first path segment (npm pack puts everything under `package/`).
 *
 * @throws EUNSAFEENTRY, ETOOLARGE or EBADPACKAGE, naming the entry.
 */
export async function inspectTar(tar: Buffer, what: string, limits: Required<InstallLimits>): Promise<void> {
  const tally = new Tally(limits, what);
  let failure: unknown;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      try {
        if (failure === undefined) checkTarEntry(entry, what, tally);
      } catch (err) {
        failure = err;
      }
      entry.resume();
    },
  });
  await new Promise<void>((done, fail) => {
    parser.on('error', fail);
    parser.on('end', done);
    parser.on('close', done);
    parser.end(tar);
  }).catch((err: unknown) => {
    failure ??= installError('EBADPACKAGE', `${what} is not a readable tar archive (${(err as Error).message}); give the .tgz that npm pack made`, err);
  });
  if (failure !== undefined) throw failure;
  if (tally.entries === 0) throw installError('EBADPACKAGE', `${what} holds no entries; give the .tgz that npm pack made`);
}

function checkTarEntry(entry: ReadEntry, what: string, tally: Tally): void {
  const kind = KINDS[entry.type];
  if (kind === undefined) {
    throw installError(
      'EUNSAFEENTRY',
      `${what} has an entry "${printable(entry.path)}" of type ${entry.type}; a package may hold only files, folders and links ` +
        `inside it (no devices, FIFOs or other special files). Nothing was installed; rebuild the package with npm pack`,
    );
  }
  checkEntry(what, entry.path, kind, entry.linkpath);
  const below = stripFirst(entry.path);
  if (below !== null && kind === 'hardlink') {
    const target = stripFirst(entry.linkpath ?? '');
    if (target === null) throw installError('EUNSAFEENTRY', `${what} has a hard link "${printable(entry.path)}" to the package's root; nothing was installed`);
  }
  tally.add(kind === 'file' ? entry.size : 0);
}

/** `path` without its first segment, or null when nothing is left. */
function stripFirst(path: string): string | null {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return parts.length > 1 ? parts.slice(1).join('/') : null;
}

/**
 * Extracts the checked archive `tar` into the (new, empty) folder `dir`, below the archive's first
 * segment. Owners are not kept; modes lose group and world write bits.
 */
export async function extractTar(tar: Buffer, dir: string, what: string): Promise<void> {
  const unpack = new Unpack({
    cwd: dir,
    strip: 1,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    processUmask: 0o022,
    umask: 0o022,
    // Checked already; the filter stands guard once more over what tar is about to write.
    filter: (path, entry) => 'type' in entry && KINDS[(entry as ReadEntry).type] !== undefined && !path.split(/[\\/]/).includes('..'),
  });
  await new Promise<void>((done, fail) => {
    unpack.on('error', fail);
    unpack.on('close', done);
    unpack.end(tar);
  }).catch((err: unknown) => {
    throw installError('EUNSAFEENTRY', `${what} could not be extracted safely (${(err as Error).message}); nothing was installed`, err);
  });
}
