/**
 * Installing, upgrading and uninstalling plugin packages in an install folder (a plugin folder of a
 * host). A package is staged in a dot-folder inside the install folder (the folder loader and the watcher
 * skip dot-names), checked, and switched in as `DIR/<name>/` by rename, so a watcher sees the whole new
 * version at once. The manifest records what was installed.
 */
import { mkdir, mkdtemp, realpath, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gt, valid } from 'semver';
import ssri from 'ssri';
import { extractTar, inspectTar, tarBytes } from './archive.js';
import { installError } from './errors.js';
import { limitsOf, printable, type InstallLimits } from './limits.js';
import { awaitLoads, DEFAULT_LOAD_DEADLINE_MS, type LoadEvents, type LoadProblem } from './load-check.js';
import { readManifest, writeManifest, type InstalledPackage } from './manifest.js';
import { archiveBytes, checkAllow, checkAllowed, classify } from './source.js';
import { checkPackageName, copyFolder, folderNameOf, nativePath, readStaged, walkStaged } from './staged.js';

/** Where to install and what to accept. */
export interface InstallOptions {
  /** The install folder: a plugin folder of the host (it must exist). */
  dir: string;
  /** The sources accepted: "file:" (or "file:/prefix/"), "registry", or https URL prefixes. None by default. */
  allow: string[];
  /** The archive's expected integrity (ssri, e.g. "sha512-…"); checked before anything is extracted. */
  integrity?: string;
  /** Accept a remote source (registry, URL) without an integrity pin. */
  allowUnpinned?: boolean;
  /** Install even when the version does not increase, or over a folder the installer did not make. */
  force?: boolean;
  /** Package or plugin module names that may be neither installed over, replaced nor removed. */
  protected?: string[];
  /** A running extension that watches `dir`: the install waits for it to load the new plugin files and rolls back when one fails. */
  extension?: LoadEvents;
  /** How long to wait for `extension` to load the new files, in ms. Default 30,000. */
  loadDeadlineMs?: number;
  /**
   * Loads the plugin folder it is given (the staged package, before it is switched in) and returns the
   * load problems; any problem fails the install with ELOADFAILED and changes nothing.
   */
  check?: (folder: string) => Promise<LoadProblem[]>;
  /** Caps on the package's contents. */
  limits?: InstallLimits;
  /** Certificate authorities to trust for https URLs (besides Node's own). */
  ca?: string | Buffer;
  /** The registry for registry specs. Default npm's configured one (npm_config_registry), else npm's public registry. */
  registry?: string;
}

/** What an install did. */
export interface InstallResult {
  /** The package as now recorded in the manifest. */
  installed: InstalledPackage;
  /** The version it replaced, if any. */
  replaced: string | null;
}

/** Installs are one at a time per install folder within this process. */
const queues = new Map<string, Promise<unknown>>();
function serially<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const run = (queues.get(dir) ?? Promise.resolve()).then(task, task);
  queues.set(dir, run.catch(() => undefined));
  return run;
}

/**
 * Installs the package `spec` (a .tgz from npm pack, a package folder, `name@version` from the registry,
 * or an https URL of a .tgz) into `options.dir` as `<dir>/<name>/`, or upgrades it there.
 *
 * @throws an Error with a `code`: ENOTALLOWED (source not allowed, or remote and unpinned), EINTEGRITY
 *   (integrity mismatch; nothing changed), EUNSAFEENTRY (an entry escapes, or is a device or FIFO),
 *   ETOOLARGE (over the caps), EVERSION (version not higher), EPROTECTED (a protected name), ELOADFAILED
 *   (the new version failed to load; the old one is back), EBADPACKAGE (not a usable plugin package).
 */
export async function install(spec: string, options: InstallOptions): Promise<InstallResult> {
  const dir = await installDir(options?.dir);
  const allow = checkAllow(options.allow);
  const limits = limitsOf(options.limits);
  if (options.integrity !== undefined && ssri.parse(options.integrity, { single: false }).toString() === '') {
    throw new TypeError(`extpoint install: integrity "${printable(String(options.integrity))}" is not an integrity string; give one like "sha512-…" (npm view PKG dist.integrity)`);
  }
  const source = await classify(spec);
  checkAllowed(source, allow, options.integrity !== undefined, options.allowUnpinned === true);
  if (source.kind === 'folder' && options.integrity !== undefined) {
    throw new TypeError('extpoint install: an integrity pin applies to an archive, not a folder; pack the folder with npm pack and install the .tgz');
  }
  const what = printable(spec);

  // The archive is read and its integrity checked before anything is written.
  let bytes: Buffer | undefined;
  let integrity: string | null = null;
  if (source.kind !== 'folder') {
    bytes = await archiveBytes(source, limits.maxBytes, { ca: options.ca, registry: options.registry });
    if (options.integrity !== undefined && ssri.checkData(bytes, options.integrity) === false) {
      const got = ssri.fromData(bytes, { algorithms: ['sha512'] }).toString();
      throw installError('EINTEGRITY', `${what} has integrity ${got}, not the expected ${options.integrity}; nothing was installed. Check the source, or the pin`);
    }
    integrity = options.integrity ?? ssri.fromData(bytes, { algorithms: ['sha512'] }).toString();
  }

  return serially(dir, async () => {
    const staging = await mkdtemp(join(dir, '.extpoint-staging-'));
    try {
      const staged = join(staging, 'package');
      if (bytes !== undefined) {
        const tar = await tarBytes(bytes, what, limits);
        await inspectTar(tar, what, limits);
        await mkdir(staged, { mode: 0o755 });
        await extractTar(tar, staged, what);
      } else {
        await mkdir(staged, { mode: 0o755 });
        await copyFolder((source as { path: string }).path, staged, what, limits);
      }
      const files = await walkStaged(staged, what, limits);
      const pkg = await readStaged(staged, what, files);
      const manifest = await readManifest(dir);
      const previous = manifest[pkg.name];
      const folder = folderNameOf(pkg.name);
      const target = join(dir, folder);
      checkProtected(options.protected, pkg.name, pkg.plugins, 'installed over');
      if (previous !== undefined) checkProtected(options.protected, pkg.name, previous.plugins, 'replaced');
      if (previous !== undefined && options.force !== true && !(valid(previous.version) !== null && gt(pkg.version, previous.version))) {
        throw installError(
          'EVERSION',
          `${pkg.name}@${pkg.version} is not newer than the installed ${previous.version}; an upgrade must increase the version (use force to install it anyway)`,
        );
      }
      const exists = await present(target);
      if (exists && previous === undefined && options.force !== true) {
        throw installError('EPROTECTED', `${target} exists and was not installed by the installer; move it away, or use force to replace it`);
      }
      if (options.check !== undefined) {
        const problems = await options.check(staged);
        if (problems.length > 0) throw loadFailed(pkg.name, pkg.version, problems, 'nothing was changed');
      }

      const installed: InstalledPackage = {
        name: pkg.name,
        version: pkg.version,
        integrity,
        source: source.kind === 'tarball' || source.kind === 'folder' ? `file:${source.path}` : spec,
        time: new Date().toISOString(),
        folder,
        plugins: pkg.plugins,
        files: pkg.files,
      };
      // The manifest first: a host checks installed files against it as they load.
      await writeManifest(dir, { ...manifest, [pkg.name]: installed });

      // The switch: the old folder into staging, the new one into place; each a rename.
      const old = join(staging, 'old');
      const plugins = pkg.plugins.map((p) => nativePath(target, p));
      const wait = options.extension === undefined ? undefined : awaitLoads(options.extension, target, plugins, options.loadDeadlineMs ?? DEFAULT_LOAD_DEADLINE_MS);
      // Going back, the manifest goes back before the old files do, so that a host verifies them against it.
      try {
        if (exists) await rename(target, old);
        try {
          await rename(staged, target);
        } catch (err) {
          await writeManifest(dir, manifest);
          if (exists) await rename(old, target); // never leave the old version in staging, which is removed
          throw err;
        }
      } catch (err) {
        await writeManifest(dir, manifest);
        throw err;
      }
      const problems = wait === undefined ? [] : await wait();
      if (problems.length > 0) {
        await rename(target, join(staging, 'failed'));
        await writeManifest(dir, manifest);
        if (exists) await rename(old, target);
        throw loadFailed(pkg.name, pkg.version, problems, exists ? `the previous version ${previous?.version ?? ''} is back in place` : 'it was removed');
      }
      return { installed, replaced: previous?.version ?? null };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/**
 * Removes the installed package `name` from `options.dir` (one rename takes its folder away) and from the
 * manifest.
 *
 * @throws ENOTINSTALLED when the manifest does not list it, EPROTECTED for a protected name.
 */
export async function uninstall(name: string, options: { dir: string; protected?: string[] }): Promise<InstalledPackage> {
  const dir = await installDir(options?.dir);
  checkPackageName(name, 'the name given');
  return serially(dir, async () => {
    const manifest = await readManifest(dir);
    const entry = manifest[name];
    if (entry === undefined) {
      const names = Object.keys(manifest);
      throw installError('ENOTINSTALLED', `${name} is not installed in ${dir} (installed: ${names.length === 0 ? 'none' : names.join(', ')}); see extpoint installed --dir ${dir}`);
    }
    checkProtected(options.protected, name, entry.plugins, 'removed');
    const staging = await mkdtemp(join(dir, '.extpoint-staging-'));
    try {
      const target = join(dir, entry.folder);
      if (await present(target)) await rename(target, join(staging, 'old'));
      const rest = { ...manifest };
      delete rest[name];
      await writeManifest(dir, rest);
      return entry;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/** The packages installed in `options.dir`, by name order, as the manifest records them. */
export async function listInstalled(options: { dir: string }): Promise<InstalledPackage[]> {
  const dir = await installDir(options?.dir);
  const manifest = await readManifest(dir);
  return Object.values(manifest).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function installDir(dir: unknown): Promise<string> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('extpoint install: option dir is required: the plugin folder to install into');
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
    return await realpath(dir);
  } catch (err) {
    throw new TypeError(`extpoint install: the install folder ${dir} cannot be used (${(err as Error).message}); create it first`);
  }
}

async function present(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function checkProtected(names: string[] | undefined, pkg: string, plugins: string[], verb: string): void {
  if (names === undefined) return;
  const modules = plugins.map((p) => p.slice(p.lastIndexOf('/') + 1).replace(/\.(c|m)?js$/, ''));
  const hit = [pkg, ...modules].find((n) => names.includes(n));
  if (hit !== undefined) {
    throw installError('EPROTECTED', `"${hit}" is a protected name and cannot be ${verb}; remove it from the protected names if this is intended`);
  }
}

function loadFailed(name: string, version: string, problems: LoadProblem[], after: string): Error {
  const lines = problems.map((p) => `  ${p.file ?? p.module ?? ''}${p.file !== undefined || p.module !== undefined ? ': ' : ''}${p.message}`);
  return installError('ELOADFAILED', `${name}@${version} failed to load, so ${after}; fix the package and install it again:\n${lines.join('\n')}`);
}
