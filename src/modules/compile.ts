/**
 * Turning a plugin file's text into a function to run: CommonJS inside Node's wrapper, ES modules
 * converted to CommonJS by esbuild first. Compile failures become a `FileFailure` whose message says
 * where the file went wrong.
 */
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';
import { errorText } from '../core/declarations.js';

/** The names a plugin file sees, as in Node's CommonJS wrapper, plus `import.meta` for converted ES modules. */
const WRAPPER = ['exports', 'require', 'module', '__filename', '__dirname'];
const IMPORT_META = '__extpoint_import_meta';
const ESM_WRAPPER = [...WRAPPER, IMPORT_META];
/** `import()` inside plugin code works as in the host (such imports are Node's, and are not reloaded). */
const COMPILE_OPTIONS = { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER };

/** A failure of one file, kept as it travels up through the files that required it. */
export class FileFailure extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** Compiles a CommonJS file inside Node's wrapper; throws what V8 throws for bad syntax. */
export function compileCommonJs(file: string, text: string): (...args: unknown[]) => unknown {
  return vm.compileFunction(text, WRAPPER, { filename: file, ...COMPILE_OPTIONS }) as (...args: unknown[]) => unknown;
}

/** Converts an ES module file to CommonJS and compiles it; top-level await and bad syntax are reported. */
export function compileModule(file: string, text: string): (...args: unknown[]) => unknown {
  let code: string;
  try {
    code = transformSync(text, {
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      loader: 'js',
      sourcefile: file,
      define: { 'import.meta': IMPORT_META },
      logLevel: 'silent',
    }).code;
  } catch (err) {
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
  try {
    return vm.compileFunction('"use strict";' + code, ESM_WRAPPER, { filename: file, ...COMPILE_OPTIONS }) as (
      ...args: unknown[]
    ) => unknown;
  } catch (err) {
    throw new FileFailure(file, syntaxMessage(file, err));
  }
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
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  const line = stack.startsWith(file + ':') ? stack.slice(file.length + 1, stack.indexOf('\n')) : '';
  return `syntax error in ${file}${line ? ` line ${line}` : ''}: ${errorText(err)}`;
}

/** ` at line L:C` from the first stack frame inside `file`, if any. */
export function where(file: string, err: unknown): string {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  const at = stack.indexOf(file + ':');
  if (at < 0) return '';
  const m = /^:(\d+):(\d+)/.exec(stack.slice(at + file.length));
  return m ? ` at line ${m[1]}:${m[2]}` : '';
}
