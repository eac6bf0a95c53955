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

/**
 * The longest export name that is read at all. A convention name is at most 255 + 1 + 255 characters plus
 * its suffix; anything far longer is refused before it is parsed, hashed into a point, or kept.
 */
export const MAX_EXPORT_NAME = 1_000;
/** What a module name may be, in the words of load errors. */
export const MODULE_NAME_RULE = 'a module name is 1 to 255 ASCII letters, digits, _ - . or $';

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
  if (exportName.length > MAX_EXPORT_NAME) {
    if (!exportName.endsWith(PLUGIN_SUFFIX) && !exportName.endsWith(EXTENSION_SUFFIX)) return null;
    return {
      ok: false,
      error:
        `export ${quoteName(exportName)} is ${exportName.length} characters long: a convention-named export is at most ` +
        `${MAX_EXPORT_NAME.toLocaleString('en-US')} characters (rename it)`,
    };
  }
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
  if (cut <= 0) return { ok: false, error: `export ${quoteName(exportName, MAX_EXPORT_NAME)} does not name a module and a point: ${shape}` };
  const module = stem.slice(0, cut);
  const point = stem.slice(cut + 1);
  if (!isPointName(point)) {
    return { ok: false, error: `export ${quoteName(exportName, MAX_EXPORT_NAME)} has an invalid point name ${quoteName(point, MAX_EXPORT_NAME)}: ${shape}` };
  }
  if (!isTargetModule(module)) {
    return { ok: false, error: `export ${quoteName(exportName, MAX_EXPORT_NAME)} has an invalid module name ${quoteName(module, MAX_EXPORT_NAME)}: ${shape}` };
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

/**
 * A short, safe rendering of any value for an error message. Never throws: a value whose inspection throws
 * (a revoked Proxy, a function whose `name` getter throws) is described by its type.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
  if (value === null) return 'null';
  try {
    if (typeof value === 'function') {
      const name: unknown = value.name;
      return `function ${typeof name === 'string' && name !== '' ? describeName(name) : '(anonymous)'}`;
    }
    if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  } catch {
    return typeof value === 'function' ? 'a function that cannot be inspected' : 'an object that cannot be inspected';
  }
  return String(value);
}

/** A function's name as it appears in `describe`: as it is when plain, quoted when it is anything else. */
function describeName(name: string): string {
  return /^[A-Za-z0-9_$]{1,80}$/.test(name) ? name : quoteName(name);
}

/** A name for messages and records: whole when short, cut (and marked so) when over 80 characters. */
export function shortName(name: string): string {
  return name.length > 80 ? name.slice(0, 80) + '…' : name;
}

/**
 * A name an operator can read and type back: quoted, with control characters and everything beyond ASCII
 * escaped, so that a look-alike letter or a terminal escape sequence shows as what it is. Names longer than
 * `max` are cut.
 */
export function quoteName(name: string, max = 80): string {
  return JSON.stringify(name.length > max ? name.slice(0, max) + '…' : name).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Why `name` (a file's base name, say) is not a module name, or null when it is one. */
export function moduleNameProblem(name: string): string | null {
  if (isModuleName(name)) return null;
  return `${quoteName(name)} is not a valid module name: ${MODULE_NAME_RULE}`;
}
