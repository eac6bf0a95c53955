/**
 * The naming convention: `<module>_<point>_Extension` declares an extension point of `<module>`,
 * `<module>_<point>_Plugin` plugs into it. Parsing is exact: the suffix must end the name, the point is
 * the letters and digits after the last `_` ahead of the suffix, the module is everything before it.
 */

export const EXTENSION_SUFFIX = '_Extension';
export const PLUGIN_SUFFIX = '_Plugin';

/** A module's own name: a file name such as `my-plugin.v2` is fine. */
const MODULE_NAME = /^[A-Za-z0-9_\-.$]{1,255}$/;
/** The module named inside a convention name, and the `module` argument of a call. */
const TARGET_MODULE = /^[A-Za-z0-9_$]{1,255}$/;
const POINT_NAME = /^[A-Za-z0-9]+$/;

export type ExportKind = 'extension' | 'plugin';

/** A convention-named export, parsed. */
export interface ParsedName {
  kind: ExportKind;
  /** The module that owns the point. */
  module: string;
  point: string;
}

/** The result of reading one export name. */
export type NameReading =
  | { readonly ok: true; readonly name: ParsedName }
  | { readonly ok: false; readonly error: string }
  | null;

export function isModuleName(name: unknown): name is string {
  return typeof name === 'string' && MODULE_NAME.test(name);
}

export function isTargetModule(name: unknown): name is string {
  return typeof name === 'string' && TARGET_MODULE.test(name);
}

export function isPointName(name: unknown): name is string {
  return typeof name === 'string' && POINT_NAME.test(name);
}

/**
 * Reads an export name. `null` means it is not convention-named at all (a helper export); a reading
 * with `ok: false` means it ends with a convention suffix but does not parse, which is a load error.
 */
export function parseExportName(exportName: string): NameReading {
  let kind: ExportKind;
  let stem: string;
  if (exportName.endsWith(PLUGIN_SUFFIX)) {
    kind = 'plugin';
    stem = exportName.slice(0, -PLUGIN_SUFFIX.length);
  } else if (exportName.endsWith(EXTENSION_SUFFIX)) {
    kind = 'extension';
    stem = exportName.slice(0, -EXTENSION_SUFFIX.length);
  } else {
    return null;
  }
  const suffix = kind === 'plugin' ? PLUGIN_SUFFIX : EXTENSION_SUFFIX;
  const cut = stem.lastIndexOf('_');
  const shape = `expected <module>_<point>${suffix}, with a point of letters and digits and a module of letters, digits, _ and $`;
  if (cut <= 0) return { ok: false, error: `export "${exportName}" does not name a module and a point: ${shape}` };
  const module = stem.slice(0, cut);
  const point = stem.slice(cut + 1);
  if (!isPointName(point)) {
    return { ok: false, error: `export "${exportName}" has an invalid point name "${point}": ${shape}` };
  }
  if (!isTargetModule(module)) {
    return { ok: false, error: `export "${exportName}" has an invalid module name "${module}": ${shape}` };
  }
  return { ok: true, name: { kind, module, point } };
}

export function extensionName(module: string, point: string): string {
  return module + '_' + point + EXTENSION_SUFFIX;
}

export function pluginName(module: string, point: string): string {
  return module + '_' + point + PLUGIN_SUFFIX;
}

/** Throws the TypeError that a bad `module` or `point` argument of a call deserves. */
export function assertCallNames(module: unknown, point: unknown): asserts module is string {
  if (!isTargetModule(module)) {
    throw new TypeError(
      `extpoint: invalid module name ${describe(module)}: a module argument is 1 to 255 letters, digits, _ or $`,
    );
  }
  if (!isPointName(point)) {
    throw new TypeError(`extpoint: invalid point name ${describe(point)}: a point is letters and digits only`);
  }
}

/** A short, safe rendering of any value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
