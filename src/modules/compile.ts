/**
 * Turning a plugin file's text into a function to run: CommonJS inside Node's wrapper, ES modules
 * converted to CommonJS by esbuild first. Compile failures become a `FileFailure` whose message says
 * where the file went wrong.
 */
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

import { errorStack, errorText } from '../core/thrown.js';
import { MAX_NESTING, nestingDepth } from './nesting.js';
import { IMPORT_OPTIONS, quietVmImport } from './vm-import.js';
import { keepSourceMap } from './esm-stacks.js';

/**
 * esbuild, loaded when a file first needs converting: its CommonJS entry costs tens of milliseconds to
 * load, which every worker node's start would pay even when its folder holds no ES module.
 */
let esbuild: typeof import('esbuild') | null = null;
const loadEsbuild = (): typeof import('esbuild') => (esbuild ??= createRequire(import.meta.url)('esbuild') as typeof import('esbuild'));

/** The names a plugin file sees, as in Node's CommonJS wrapper, plus `import.meta` for converted ES modules. */
const WRAPPER = ['exports', 'require', 'module', '__filename', '__dirname'];
const IMPORT_META = '__extpoint_import_meta';
const ESM_WRAPPER = [...WRAPPER, IMPORT_META];
/** `import()` inside plugin code works as in the host (such imports are Node's, and are not reloaded). */
const COMPILE_OPTIONS = IMPORT_OPTIONS;

/** Every `FileFailure` made: telling one from a thrown value must not run that value's code. */
const failures = new WeakSet<object>();

/** A failure of one file, kept as it travels up through the files that required it. */
export class FileFailure extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    failures.add(this);
  }
}

/**
 * True for a `FileFailure`. Unlike `instanceof`, this never runs code of the value: a Proxy thrown by a
 * plugin, whose `getPrototypeOf` trap throws, is simply not one.
 */
export function isFileFailure(err: unknown): err is FileFailure {
  return typeof err === 'object' && err !== null && failures.has(err);
}

/** Compiles a CommonJS file inside Node's wrapper; throws what V8 throws for bad syntax. */
export function compileCommonJs(file: string, text: string): (...args: unknown[]) => unknown {
  quietVmImport();
  return vm.compileFunction(text, WRAPPER, { filename: file, ...COMPILE_OPTIONS }) as (...args: unknown[]) => unknown;
}

/** What converted ES module code starts with: an ES module is strict. */
const STRICT = '"use strict";';

/**
 * Converts an ES module file to CommonJS and compiles it; top-level await, bad syntax and nesting too deep
 * for the converter are reported as the file's failure.
 */
export function compileModule(file: string, text: string): (...args: unknown[]) => unknown {
  const depth = nestingDepth(text);
  if (depth > MAX_NESTING) {
    throw new FileFailure(
      file,
      `ES module ${file} nests brackets more than ${MAX_NESTING} levels deep, which no plugin needs and which ` +
        `would stall the host while it is converted; flatten the code (or generate data as JSON)`,
    );
  }
  let code: string;
  let map: string;
  try {
    ({ code, map } = transform(file, text));
  } catch (err) {
    if (isFileFailure(err)) throw err;
    const { at, text } = esbuildMessage(err);
    if (/top-level await/i.test(text)) {
      throw new FileFailure(
        file,
        `ES module ${file} uses top-level await${at && ` at${at}`}, which a reloadable plugin file cannot: ` +
          `move the awaited work into a function the plugin calls`,
      );
    }
    throw new FileFailure(file, `syntax error in ES module ${file}${at}: ${text}`);
  }
  quietVmImport();
  keepSourceMap(file, map, STRICT.length);
  try {
    return vm.compileFunction(STRICT + code, ESM_WRAPPER, { filename: file, ...COMPILE_OPTIONS }) as (
      ...args: unknown[]
    ) => unknown;
  } catch (err) {
    throw new FileFailure(file, syntaxMessage(file, err));
  }
}

/**
 * esbuild's conversion, through its long-lived service. A file can kill that service (its parser overflows
 * on nesting the depth check does not see, such as a long chain of `if`s): the file then fails, the service
 * is stopped so that the next conversion starts a new one, and the files after it load as before. A service
 * found dead before this file started (killed from outside, say) is restarted and the file tried once more.
 */
function transform(file: string, text: string): { code: string; map: string } {
  for (let attempt = 0; ; attempt++) {
    try {
      return loadEsbuild().transformSync(text, {
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        loader: 'js',
        sourcefile: file,
        define: { 'import.meta': IMPORT_META },
        logLevel: 'silent',
        // Stack traces in the file's own lines and columns: esm-stacks.ts maps frames with it.
        sourcemap: 'external',
        sourcesContent: false,
      });
    } catch (err) {
      const death = serviceDeath(err);
      if (death === null) throw err;
      void loadEsbuild().stop();
      if (death === 'before' && attempt === 0) continue;
      throw new FileFailure(
        file,
        `the ES module converter (esbuild) died while converting ${file}, which is likely nested too deeply or too ` +
          `large for it; the converter was restarted for the files after it (simplify the file)`,
      );
    }
  }
}

/** Whether `err` says esbuild's service died: during this call, before it, or not at all. */
function serviceDeath(err: unknown): 'during' | 'before' | null {
  const message = errorText(err);
  if (message.includes('The service is no longer running')) return 'before';
  if (message.includes('The service was stopped')) return 'during';
  return null;
}

/** What a converted ES module sees as `import.meta`. */
export function importMeta(file: string): object {
  return {
    url: pathToFileURL(file).href,
    filename: file,
    dirname: dirname(file),
    resolve: (spec: string) => pathToFileURL(createRequire(file).resolve(spec)).href,
  };
}

/** esbuild's first error: where (` line L:C`, or nothing) and what. */
function esbuildMessage(err: unknown): { at: string; text: string } {
  const errors = (err as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors;
  const first = errors?.[0];
  if (first === undefined) return { at: '', text: errorText(err) };
  return { at: first.location ? ` line ${first.location.line}:${first.location.column}` : '', text: first.text };
}

/** A compile error with its line, which V8 puts in the first line of the stack as `file:line`. */
export function syntaxMessage(file: string, err: unknown): string {
  const stack = errorStack(err);
  const line = stack.startsWith(file + ':') ? stack.slice(file.length + 1, stack.indexOf('\n')) : '';
  return `syntax error in ${file}${line ? ` line ${line}` : ''}: ${errorText(err)}`;
}

/** ` at line L:C` from the first stack frame inside `file`, if any. */
export function where(file: string, err: unknown): string {
  const stack = errorStack(err);
  const at = stack.indexOf(file + ':');
  if (at < 0) return '';
  const m = /^:(\d+):(\d+)/.exec(stack.slice(at + file.length));
  return m ? ` at line ${m[1]}:${m[2]}` : '';
}
