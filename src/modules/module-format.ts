/**
 * Which module format a plugin file is, decided the way Node 20.19+ decides it: `.cjs` is CommonJS,
 * `.mjs` is an ES module, and a `.js` file follows the `"type"` of its nearest `package.json`; with no
 * `"type"` there, Node tries CommonJS and switches to ES module only when the file fails to compile with
 * an error that only module syntax causes (syntax detection).
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, join, basename } from 'node:path';

/** A file's format, or `detect` for a `.js` file whose package says nothing: its syntax decides. */
export type ModuleFormat = 'commonjs' | 'module' | 'detect' | 'json';

/**
 * Compile errors that only ES module syntax causes in CommonJS code; Node's syntax detection retries such
 * a file as an ES module. (`await` at top level is among them: the ES module path then reports that
 * top-level await cannot be reloaded.)
 */
const MODULE_SYNTAX_ERRORS = [
  'Cannot use import statement outside a module',
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
  'await is only valid in async functions and the top level bodies of modules',
];

/** True when a CommonJS compile error means the file is written as an ES module. */
export function isModuleSyntaxError(err: unknown): boolean {
  if (!(err instanceof SyntaxError)) return false;
  return MODULE_SYNTAX_ERRORS.some((m) => err.message.includes(m));
}

/**
 * Decides formats, remembering each folder's package `"type"` until `forget()`: a scan of thousands of
 * files in a few folders then reads each `package.json` once.
 */
export class FormatOracle {
  private readonly typeOfDir = new Map<string, string | undefined>();

  /** The format of `file` by its extension and package; `.js` with no package type gives `detect`. */
  formatOf(file: string): ModuleFormat {
    const ext = extname(file);
    if (ext === '.cjs') return 'commonjs';
    if (ext === '.mjs') return 'module';
    if (ext === '.json') return 'json';
    // Node loads files of unknown extension with the `.js` rules of CommonJS.
    if (ext !== '.js') return 'commonjs';
    const type = this.packageType(dirname(file));
    if (type === 'module') return 'module';
    if (type === 'commonjs') return 'commonjs';
    return 'detect';
  }

  /** Drops what was learnt about package files (call it when one may have changed). */
  forget(): void {
    this.typeOfDir.clear();
  }

  /**
   * The `"type"` of the nearest `package.json` above `dir`, as Node's package scope lookup finds it: the
   * walk stops at the first `package.json` and never looks above a `node_modules` folder.
   */
  private packageType(dir: string): string | undefined {
    if (this.typeOfDir.has(dir)) return this.typeOfDir.get(dir);
    let type: string | undefined;
    const text = readPackage(dir);
    if (text !== undefined) {
      type = typeField(text);
    } else if (basename(dir) !== 'node_modules' && dirname(dir) !== dir) {
      type = this.packageType(dirname(dir));
    }
    this.typeOfDir.set(dir, type);
    return type;
  }
}

function readPackage(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'package.json'), 'utf8');
  } catch {
    return undefined;
  }
}

/** The `"type"` field; a package file that does not parse counts as having none (Node would refuse to load the file). */
function typeField(text: string): string | undefined {
  try {
    const pkg: unknown = JSON.parse(text);
    if (pkg !== null && typeof pkg === 'object' && 'type' in pkg && typeof pkg.type === 'string') return pkg.type;
  } catch {
    // fall through
  }
  return undefined;
}
