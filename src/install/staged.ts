/**
 * What a staged package is: its files walked once more after extraction or copying (special files refused,
 * group and world write bits dropped, each file hashed for the manifest), its package.json read, and the
 * plugin files it names checked.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, symlink } from 'node:fs/promises';
import { extname, join, posix, sep } from 'node:path';
import { valid } from 'semver';
import { installError } from './errors.js';
import { checkEntry, printable, Tally, type InstallLimits } from './limits.js';

/** What the installer learns from a staged package. */
export interface StagedPackage {
  name: string;
  version: string;
  /** The plugin files, relative to the package root, '/'-separated. */
  plugins: string[];
  /** Each regular file's sha512 (base64), by its path relative to the package root. */
  files: Record<string, string>;
}

const PLUGIN_EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);
/** npm's rule for package names (scoped or not), lower case, no leading dot or underscore. */
const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** The folder a package named `name` is installed as, inside the install folder: `@scope/x` becomes `@scope+x`. */
export function folderNameOf(name: string): string {
  return name.replace('/', '+');
}

/** Throws a TypeError unless `name` is a package name npm accepts. */
export function checkPackageName(name: string, where: string): void {
  if (typeof name !== 'string' || name.length > 214 || !NAME.test(name)) {
    throw installError('EBADPACKAGE', `${where} has the name "${printable(String(name))}", which is not a package name npm accepts; fix the "name" field of its package.json`);
  }
}

/** Walks the staged folder `root`: refuses special files, drops group/world write bits, hashes files. */
export async function walkStaged(root: string, what: string, limits: Required<InstallLimits>): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const tally = new Tally(limits, what);
  const folders = [''];
  for (let rel = folders.pop(); rel !== undefined; rel = folders.pop()) {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const full = join(root, path);
      const stats = await lstat(full);
      if (stats.isDirectory()) {
        folders.push(path);
        tally.add(0);
      } else if (stats.isFile()) {
        tally.add(stats.size);
        const bytes = await readFile(full);
        files[path] = createHash('sha512').update(bytes).digest('base64');
      } else if (stats.isSymbolicLink()) {
        tally.add(0);
        checkEntry(what, path, 'symlink', await readlink(full));
        continue;
      } else {
        throw installError('EUNSAFEENTRY', `${what} holds "${printable(path)}", which is neither a file, a folder nor a link; nothing was installed`);
      }
      if ((stats.mode & 0o022) !== 0) await chmod(full, stats.mode & 0o7755);
    }
  }
  return files;
}

/** Copies the package folder `from` into the new folder `to`, with the same checks as an archive. */
export async function copyFolder(from: string, to: string, what: string, limits: Required<InstallLimits>): Promise<void> {
  const tally = new Tally(limits, what);
  const folders = [''];
  for (let rel = folders.pop(); rel !== undefined; rel = folders.pop()) {
    for (const entry of await readdir(join(from, rel), { withFileTypes: true })) {
      // Version control and dependencies are not part of a plugin package.
      if (rel === '' && (entry.name === '.git' || entry.name === 'node_modules')) continue;
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const source = join(from, path);
      const target = join(to, path);
      const stats = await lstat(source);
      if (stats.isDirectory()) {
        tally.add(0);
        await mkdir(target, { mode: 0o755 });
        folders.push(path);
      } else if (stats.isFile()) {
        tally.add(stats.size);
        await copyFile(source, target);
        await chmod(target, stats.mode & 0o755);
      } else if (stats.isSymbolicLink()) {
        tally.add(0);
        const link = await readlink(source);
        checkEntry(what, path, 'symlink', link);
        await symlink(link, target);
      } else {
        throw installError('EUNSAFEENTRY', `${what} holds "${printable(path)}", which is neither a file, a folder nor a link; remove it and try again`);
      }
    }
  }
}

/** Reads the staged package at `root`: name, version and plugin files, each checked. */
export async function readStaged(root: string, what: string, files: Record<string, string>): Promise<StagedPackage> {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) throw new Error('not an object');
  } catch (err) {
    throw installError('EBADPACKAGE', `${what} has no readable package.json (${(err as Error).message}); a plugin package needs one with its name and version`, err);
  }
  const name = pkg.name as string;
  checkPackageName(name, what);
  const version = pkg.version;
  if (typeof version !== 'string' || valid(version) === null) {
    throw installError('EBADPACKAGE', `${what} has the version "${printable(String(version))}", which is not a semver version; fix the "version" field of its package.json`);
  }
  const named = (pkg.extpoint as { plugins?: unknown } | undefined)?.plugins ?? (typeof pkg.main === 'string' ? [pkg.main] : undefined);
  if (!Array.isArray(named) || named.length === 0 || !named.every((p) => typeof p === 'string')) {
    throw installError(
      'EBADPACKAGE',
      `${what} names no plugin files: add "extpoint": { "plugins": ["plugin.js"] } (or "main") to its package.json`,
    );
  }
  const plugins = (named as string[]).map((p) => {
    const rel = posix.normalize(p.replace(/^\.\//, ''));
    if (!PLUGIN_EXTENSIONS.has(extname(rel)) || files[rel] === undefined) {
      throw installError(
        'EBADPACKAGE',
        `${what} names the plugin file "${printable(p)}", which ${files[rel] === undefined ? 'is not a file in the package' : 'is not a .js, .cjs or .mjs file'}; fix "extpoint.plugins" in its package.json`,
      );
    }
    return rel;
  });
  return { name, version, plugins, files };
}

/** `rel` ('/'-separated) as a native path below `root`. */
export function nativePath(root: string, rel: string): string {
  return root + sep + rel.split('/').join(sep);
}
