/**
 * Installed packages as the folder loader sees them: a plugin folder with an install manifest
 * (`.extpoint-installed.json`, written by `extpoint/install`) has its installed packages checked before
 * any of their files loads. A package whose files changed behind the installer's back (a file edited,
 * removed or added since it was installed) is refused: each of its plugin files gets a load error.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { LoadGuard } from './load-guard.js';

/** The manifest's file name inside an install folder (a dot-name: the folder loader skips it). */
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

/** The manifest document, format 1. */
export interface ManifestDocument {
  version: 1;
  packages: Record<string, InstalledPackage>;
}

/** Parses a manifest's text; throws an Error naming the file when it is not a manifest. */
export function parseManifest(text: string, file: string): Record<string, InstalledPackage> {
  const doc = JSON.parse(text) as ManifestDocument;
  if (doc?.version !== 1 || typeof doc.packages !== 'object' || doc.packages === null) {
    throw new Error(`${file} is not an install manifest of format 1; move it away and install the packages again`);
  }
  return doc.packages;
}

/**
 * A load guard that refuses the files of installed packages that changed since they were installed,
 * passing every other file to `inner` (if any). `dirs` are the plugin folders.
 */
export function installedGuard(dirs: readonly string[], inner: LoadGuard | undefined): LoadGuard {
  const folders = () =>
    dirs.flatMap((d) => {
      try {
        return [realpathSync(d)];
      } catch {
        return [];
      }
    });
  return {
    loading(file) {
      const refused = changedPackage(folders(), file);
      return refused ?? inner?.loading(file) ?? null;
    },
    loaded(file) {
      inner?.loaded(file);
    },
  };
}

/** Why `file` must not load (its installed package changed), or null. */
function changedPackage(dirs: string[], file: string): string | null {
  const dir = dirs.find((d) => file.startsWith(d + sep));
  if (dir === undefined) return null;
  const manifestFile = join(dir, MANIFEST);
  let packages: Record<string, InstalledPackage>;
  try {
    if (!statSync(manifestFile).isFile()) return null;
    packages = parseManifest(readFileSync(manifestFile, 'utf8'), manifestFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `the install manifest of its folder cannot be read (${(err as Error).message}), so its installed packages cannot be verified`;
  }
  const rel = file.slice(dir.length + 1).split(sep);
  const pkg = Object.values(packages).find((p) => p.folder === rel[0]);
  if (pkg === undefined) return null;
  const root = join(dir, pkg.folder);
  const inPackage = rel.slice(1).join('/');
  const problems: string[] = [];
  if (pkg.files[inPackage] === undefined) problems.push(`${inPackage} was added`);
  for (const path of filesBelow(root)) {
    if (pkg.files[path] === undefined && path !== inPackage) problems.push(`${path} was added`);
  }
  for (const [path, hash] of Object.entries(pkg.files)) {
    let now: string;
    try {
      now = createHash('sha512').update(readFileSync(join(root, ...path.split('/')))).digest('base64');
    } catch {
      problems.push(`${path} is missing`);
      continue;
    }
    if (now !== hash) problems.push(`${path} changed`);
  }
  if (problems.length === 0) return null;
  return (
    `installed package ${pkg.name}@${pkg.version} was changed since it was installed (${problems.slice(0, 5).join(', ')}` +
    `${problems.length > 5 ? ', ...' : ''}), so its files are refused; install it again with extpoint install, or uninstall it`
  );
}

/** The files below `root` (not folders), relative to it, '/'-separated; none when it cannot be read. */
function filesBelow(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true, recursive: true })
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name).slice(root.length + 1).split(sep).join('/'));
  } catch {
    return [];
  }
}
