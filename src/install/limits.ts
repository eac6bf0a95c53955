/**
 * The caps on what one package may unpack to, and the checks every archive entry or copied file passes:
 * its path stays inside the package, it is a file, a folder or a link that points inside.
 */
import { posix } from 'node:path';
import { installError } from './errors.js';

/** Caps on one package's contents. */
export interface InstallLimits {
  /** The most bytes the package's files may hold in all, unpacked. Default 64 MiB. */
  maxBytes?: number;
  /** The most entries (files, folders, links) the package may hold. Default 10,000. */
  maxEntries?: number;
}

/** The default caps: far above any plugin package, far below what fills a disk. */
export const DEFAULT_LIMITS: Required<InstallLimits> = { maxBytes: 64 * 1024 * 1024, maxEntries: 10_000 };

/** `limits` with the defaults filled in; a TypeError names a cap that is not a positive integer. */
export function limitsOf(limits: InstallLimits | undefined): Required<InstallLimits> {
  const out = { ...DEFAULT_LIMITS, ...limits };
  for (const key of ['maxBytes', 'maxEntries'] as const) {
    if (!Number.isSafeInteger(out[key]) || out[key] <= 0) {
      throw new TypeError(`extpoint install: limits.${key} must be a positive integer, not ${String(out[key])}`);
    }
  }
  return out;
}

/** What kind of entry a package may hold. */
export type EntryKind = 'file' | 'folder' | 'symlink' | 'hardlink';

/** Counts entries and bytes against the caps, throwing ETOOLARGE when one is passed. */
export class Tally {
  entries = 0;
  bytes = 0;
  constructor(
    private readonly limits: Required<InstallLimits>,
    private readonly what: string,
  ) {}

  add(size: number): void {
    this.entries++;
    this.bytes += size;
    if (this.entries > this.limits.maxEntries) {
      throw installError(
        'ETOOLARGE',
        `${this.what} holds more than ${this.limits.maxEntries} entries; a plugin package needs far fewer. ` +
          `If it is genuine, raise limits.maxEntries`,
      );
    }
    if (this.bytes > this.limits.maxBytes) throw tooManyBytes(this.what, this.limits.maxBytes);
  }
}

/** The ETOOLARGE error for contents over `maxBytes`. */
export function tooManyBytes(what: string, maxBytes: number): Error {
  return installError(
    'ETOOLARGE',
    `${what} unpacks to more than ${maxBytes} bytes (a decompression bomb, or a package far larger than a plugin ` +
      `needs); if it is genuine, raise limits.maxBytes`,
  );
}

/**
 * Checks one entry of a package (its path relative to the package root, '/'-separated) and, for links,
 * its target; returns the path normalized. Throws EUNSAFEENTRY for an absolute path, a `..` segment, a
 * link whose target is absolute, goes up (`..`) or leaves the package.
 */
export function checkEntry(what: string, path: string, kind: EntryKind, target?: string): string {
  const unsafe = (why: string) =>
    installError('EUNSAFEENTRY', `${what} has an unsafe entry "${printable(path)}": ${why}; nothing was installed. Rebuild the package with npm pack`);
  if (path.includes('\0')) throw unsafe('its path holds a NUL character');
  if (isAbsolute(path)) throw unsafe('its path is absolute');
  const parts = path.split(/[\\/]/);
  if (parts.includes('..')) throw unsafe('its path climbs out with ".."');
  const rel = posix.normalize(parts.filter((p) => p !== '' && p !== '.').join('/') || '.');
  if (kind === 'symlink' || kind === 'hardlink') {
    const link = target ?? '';
    if (link === '' || link.includes('\0')) throw unsafe('it is a link without a usable target');
    if (isAbsolute(link)) throw unsafe(`it is a link to the absolute path "${printable(link)}"`);
    // Links may only point down: a ".." through a link to a folder could climb out of the package.
    if (link.split(/[\\/]/).includes('..')) throw unsafe(`it is a link that climbs out with ".." (to "${printable(link)}")`);
  }
  return rel;
}

function isAbsolute(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || /^[a-zA-Z]:/.test(path);
}

/** `text` with control characters escaped, for a message. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 200);
}
