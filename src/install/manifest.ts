/**
 * Reading and writing the install manifest, `DIR/.extpoint-installed.json`: what the installer put in the
 * folder (its format is in modules/installed.ts, where the folder loader checks installed packages
 * against it). Written whole to a temporary file and renamed over the old one, so a reader sees the old
 * manifest or the new one, never half.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST, parseManifest, type InstalledPackage, type ManifestDocument } from '../modules/installed.js';

export { MANIFEST, type InstalledPackage };

/** The packages recorded in `dir`'s manifest, by name; none when there is no manifest yet. */
export async function readManifest(dir: string): Promise<Record<string, InstalledPackage>> {
  const file = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return parseManifest(text, `extpoint install: ${file}`);
}

/** Writes `packages` as `dir`'s manifest, atomically. */
export async function writeManifest(dir: string, packages: Record<string, InstalledPackage>): Promise<void> {
  const doc: ManifestDocument = { version: 1, packages };
  const temp = join(dir, `${MANIFEST}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(temp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o644 });
  await rename(temp, join(dir, MANIFEST));
}
