/**
 * Modules Node has already loaded: CommonJS ones from `require.cache`, ES modules from the URLs that
 * `extpoint/register` recorded. Nothing here loads a file: a CommonJS module's exports are read as they
 * stand, and an ES module is imported only when already in Node's module map, where `import()` returns its
 * namespace without running anything again.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, parse, sep } from 'node:path';

/** A loaded module found by the scan. `exports` is read lazily by the caller, inside its own try. */
export interface LoadedModule {
  name: string;
  file: string;
  module: { exports: unknown; loaded: boolean };
}

const require = createRequire(import.meta.url);
/** This package's own folder (`dist/`, one above this file's), whose files are never user modules. */
const OWN_DIR = dirname(dirname(fileURLToPath(import.meta.url))) + sep;

/** True for files that are never scanned: dependencies and extpoint itself. */
export function isForeign(file: string): boolean {
  return file.includes(`${sep}node_modules${sep}`) || file.startsWith(OWN_DIR);
}

/** The module name of a file: its base name without extension. */
export function moduleNameOf(file: string): string {
  return parse(file).name;
}

/** CommonJS modules in `require.cache`, in load order, outside `node_modules`. */
export function loadedCommonJs(): LoadedModule[] {
  const out: LoadedModule[] = [];
  for (const [file, mod] of Object.entries(require.cache)) {
    if (mod === undefined || isForeign(file) || !/\.(c?js|ts|cts)$/.test(file)) continue;
    out.push({ name: moduleNameOf(file), file, module: mod });
  }
  return out;
}
