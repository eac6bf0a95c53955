/**
 * Reading a module's exports into what it declares: the extension points it owns and the plugins it
 * offers. Only own enumerable properties are read (getters included, as TypeScript's CommonJS output
 * uses them), and only those whose names follow the convention; nothing else of the module is touched.
 */
import { describe, parseExportName, shortName, type ParsedName } from './naming.js';
import { readPluginMeta, type PluginMeta } from './metadata.js';
import { errorText } from './thrown.js';

export { errorText } from './thrown.js';

/** A plugin a module offers: the export `fn` plugs into `module`'s `point`. */
export interface PluginDeclaration {
  fn: string;
  module: string;
  point: string;
  impl: (args: unknown) => unknown;
  meta: PluginMeta;
}

/** An extension point a module declares for itself. */
export interface PointDeclaration {
  fn: string;
  point: string;
}

/** An export that was refused, and why. */
export interface ExportProblem {
  export?: string;
  message: string;
}

export interface Declarations {
  plugins: PluginDeclaration[];
  points: PointDeclaration[];
  problems: ExportProblem[];
  /** The module's health probe, when it exports one. */
  health?: () => unknown;
}

/** The export name of a module's optional health probe. */
export const HEALTH_EXPORT = 'health';

/** True when the module declares anything, even only badly: a module with none is a helper. */
export function declaresAnything(d: Declarations): boolean {
  return d.plugins.length > 0 || d.points.length > 0 || d.problems.length > 0;
}

/** True when a value can carry exports: an object, or a function with properties (`module.exports = fn`). */
export function isExportsLike(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/**
 * Reads the convention-named exports of module `moduleName`. Bad exports become problems and are
 * skipped; the others are returned. A value that is not an object or function (`module.exports = null`,
 * a number) declares nothing. Throws only when the exports object itself cannot be listed (a revoked or
 * hostile Proxy), which the caller records as a load error of the whole module.
 */
export function readExports(moduleName: string, exports: unknown): Declarations {
  const result: Declarations = { plugins: [], points: [], problems: [] };
  if (!isExportsLike(exports)) return result;
  for (const key of Object.keys(exports)) {
    if (key === HEALTH_EXPORT) {
      readHealth(exports, result);
      continue;
    }
    const reading = parseExportName(key);
    if (reading === null) continue;
    // An export name too long to keep is named by its beginning only.
    const name = shortName(key);
    if (!reading.ok) {
      result.problems.push({ export: name, message: reading.error });
      continue;
    }
    const problem = readExport(moduleName, exports, key, reading.name, result);
    if (problem !== null) result.problems.push({ export: name, message: problem });
  }
  return result;
}

/**
 * Reads one convention-named export into `into`; returns why it is refused, or null. Whatever the export's
 * getter or its metadata getters throw refuses this export only.
 */
function readExport(moduleName: string, exports: object, key: string, parsed: ParsedName, into: Declarations): string | null {
  let value: unknown;
  try {
    value = (exports as Record<string, unknown>)[key];
  } catch (err) {
    return `reading export "${key}" threw: ${errorText(err)}`;
  }
  if (typeof value !== 'function') {
    return `export "${key}" is ${describe(value)}, not a function: a convention-named export must be a function`;
  }
  const { kind, module, point } = parsed;
  if (kind === 'extension') {
    if (module !== moduleName) {
      return (
        `extension point "${key}" names module "${module}" but is exported by module "${moduleName}": ` +
        `an _Extension export must live in the module it names (move it, or rename it ${moduleName}_${point}_Extension)`
      );
    }
    into.points.push({ fn: key, point });
    return null;
  }
  let meta: PluginMeta | string;
  try {
    meta = readPluginMeta(value, key);
  } catch (err) {
    return `reading the priority or depends of plugin "${key}" threw: ${errorText(err)}; the plugin is refused`;
  }
  if (typeof meta === 'string') return `${meta}; the plugin is refused`;
  into.plugins.push({ fn: key, module, point, impl: value as PluginDeclaration['impl'], meta });
  return null;
}

function readHealth(exports: object, into: Declarations): void {
  try {
    const probe = (exports as Record<string, unknown>)[HEALTH_EXPORT];
    if (typeof probe === 'function') into.health = probe as () => unknown;
    else {
      into.problems.push({
        export: HEALTH_EXPORT,
        message: `export "health" is ${describe(probe)}: a health probe must be a function returning 'ok' or { status, reason }`,
      });
    }
  } catch (err) {
    into.problems.push({ export: HEALTH_EXPORT, message: `reading export "health" threw: ${errorText(err)}` });
  }
}
