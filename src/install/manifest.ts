/**
 * The install manifest, `DIR/.extpoint-installed.json`: what the installer put in the folder (name,
 * version, integrity, source, time, plugin files and a hash of each file). Written whole to a temporary
 * file and renamed over the old one, so a reader sees the old manifest or the new one, never half.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The manifest's file name inside the install folder (a dot-name: the plugin folder loader skips it). */
export const MANIFEST = '.extpoint-installed.json';

/** One installed package, as the manifest records it. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** The integrity (ssri) of the archive installed, or null for a folder source. */
  integrity: string | null;
  /** The spec the package was installed from. */
  source: string;
  /** When it was installed, as an ISO date. */
  time: string;
  /** Its folder inside the install folder. */
  folder: string;
  /** Its plugin files, relative to its folder. */
  plugins: string[];
  /** The sha512 (base64) of each of its files, relative to its folder. */
  files: Record<string, string>;
}

interface ManifestDocument {
  version: 1;
  packages: Record<string, InstalledPackage>;
}

/** The packages recorded in `dir`'s manifest, by name; none when there is no manifest yet. */
export async function readManifest(dir: string): Promise<Record<string, InstalledPackage>> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const doc = JSON.parse(text) as ManifestDocument;
  if (doc?.version !== 1 || typeof doc.packages !== 'object' || doc.packages === null) {
    throw new Error(`extpoint install: ${join(dir, MANIFEST)} is not an install manifest of format 1; move it away and install the packages again`);
  }
  return doc.packages;
}

/** Writes `packages` as `dir`'s manifest, atomically. */
export async function writeManifest(dir: string, packages: Record<string, InstalledPackage>): Promise<void> {
  const doc: ManifestDocument = { version: 1, packages };
  const temp = join(dir, `${MANIFEST}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(temp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o644 });
  await rename(temp, join(dir, MANIFEST));
}
