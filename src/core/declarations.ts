/**
 * Reading a module's exports into what it declares: the extension points it owns and the plugins it
 * offers. Only own enumerable properties are read (getters included, as TypeScript's CommonJS output
 * uses them), and only those whose names follow the convention; nothing else of the module is touched.
 */
import { describe, parseExportName } from './naming.js';
import { readPluginMeta, type PluginMeta } from './metadata.js';

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
 * skipped; the others are returned. Throws only when the exports object itself cannot be listed
 * (a hostile proxy, say), which the caller records as a load error of the whole module.
 */
export function readExports(moduleName: string, exports: object): Declarations {
  const result: Declarations = { plugins: [], points: [], problems: [] };
  for (const key of Object.keys(exports)) {
    if (key === HEALTH_EXPORT) {
      readHealth(exports, result);
      continue;
    }
    const reading = parseExportName(key);
    if (reading === null) continue;
    if (!reading.ok) {
      result.problems.push({ export: key, message: reading.error });
      continue;
    }
    let value: unknown;
    try {
      value = (exports as Record<string, unknown>)[key];
    } catch (err) {
      result.problems.push({ export: key, message: `reading export "${key}" threw: ${errorText(err)}` });
      continue;
    }
    if (typeof value !== 'function') {
      result.problems.push({
        export: key,
        message: `export "${key}" is ${describe(value)}, not a function: a convention-named export must be a function`,
      });
      continue;
    }
    const { kind, module, point } = reading.name;
    if (kind === 'extension') {
      if (module !== moduleName) {
        result.problems.push({
          export: key,
          message:
            `extension point "${key}" names module "${module}" but is exported by module "${moduleName}": ` +
            `an _Extension export must live in the module it names (move it, or rename it ${moduleName}_${point}_Extension)`,
        });
        continue;
      }
      result.points.push({ fn: key, point });
    } else {
      const meta = readPluginMeta(value, key);
      if (typeof meta === 'string') {
        result.problems.push({ export: key, message: `${meta}; the plugin is refused` });
        continue;
      }
      result.plugins.push({ fn: key, module, point, impl: value as PluginDeclaration['impl'], meta });
    }
  }
  return result;
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

/** A thrown value as one line of text. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}
