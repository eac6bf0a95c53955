/**
 * Stack traces of ES module plugin files in the plugin file's own lines and columns. The loader runs such
 * a file as CommonJS code that esbuild converted from it, so V8 counts lines and columns in the converted
 * code; esbuild also gives a source map of the conversion, kept here per file.
 *
 * A frame is mapped when a stack is formatted: `Error.prepareStackTrace` is wrapped (once per process,
 * and only when the first ES module plugin file is converted) by a function that replaces the frames of
 * converted files with frames at the mapped position, and hands the trace to the function it wrapped:
 * Node's own formatting (source maps of the host's own code, with `--enable-source-maps`, included) or
 * whatever the host installed before. Stacks without such frames are handed on untouched.
 *
 * Limit: the map kept for a file is that of its latest version; a frame of an older version still
 * running (a timer it set before a reload) is mapped with the newer map.
 */
import { SourceMap } from 'node:module';

/** One converted file: its source map (parsed when a frame first needs it) and what was put in front of the code. */
interface Converted {
  raw: string | null;
  map: SourceMap | null;
  /** Characters put before the converted code on its first line (a `"use strict";` prologue). */
  lead: number;
}

type Prepare = (error: Error, trace: NodeJS.CallSite[]) => unknown;

const KEY = Symbol.for('extpoint.esmStacks');

interface Shared {
  readonly files: Map<string, Converted>;
  installed: boolean;
}

/** Shared by every copy of extpoint in the process, so that one wrapper serves them all. */
function shared(): Shared {
  const g = globalThis as { [KEY]?: Shared };
  return (g[KEY] ??= { files: new Map(), installed: false });
}

/**
 * Keeps the source map of the converted code of `file` (esbuild's JSON), whose first line starts with
 * `lead` characters the loader added. Stack frames of `file` are mapped from then on.
 */
export function keepSourceMap(file: string, map: string, lead: number): void {
  const state = shared();
  state.files.set(file, { raw: map, map: null, lead });
  if (!state.installed) install(state);
}

/** Drops the map of a file the loader has forgotten. */
export function dropSourceMap(file: string): void {
  shared().files.delete(file);
}

function install(state: Shared): void {
  state.installed = true;
  const previous = Error.prepareStackTrace as Prepare | undefined;
  Error.prepareStackTrace = function extpointPrepareStackTrace(error: Error, trace: NodeJS.CallSite[]): unknown {
    let sites: NodeJS.CallSite[] | null = null;
    for (let i = 0; i < trace.length; i++) {
      const site = trace[i]!;
      const file = site.getFileName();
      const converted = file ? state.files.get(file) : undefined;
      if (converted === undefined) continue;
      let moved: NodeJS.CallSite | null = null;
      try {
        moved = mapSite(site, file!, converted);
      } catch {
        // A frame that cannot be mapped stays as V8 gave it; formatting a stack must never throw.
      }
      if (moved !== null) (sites ??= trace.slice())[i] = moved;
    }
    const out = sites ?? trace;
    return previous !== undefined ? previous(error, out) : formatStack(error, out);
  };
}

/** The frame `site` at its place in the original file, or null when the map does not know it. */
function mapSite(site: NodeJS.CallSite, file: string, converted: Converted): NodeJS.CallSite | null {
  const line = site.getLineNumber();
  let column = site.getColumnNumber();
  if (line === null || column === null) return null;
  if (line === 1) column -= converted.lead;
  const entry = parsed(converted)?.findEntry(line - 1, Math.max(column - 1, 0)) as
    | { originalLine?: number; originalColumn?: number }
    | undefined;
  if (entry?.originalLine === undefined || entry.originalColumn === undefined) return null;
  return movedSite(site, `${file}:${line}:${site.getColumnNumber()}`, file, entry.originalLine + 1, entry.originalColumn + 1);
}

function parsed(converted: Converted): SourceMap | null {
  if (converted.map === null && converted.raw !== null) {
    try {
      converted.map = new SourceMap(JSON.parse(converted.raw) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      // A map that does not parse maps nothing.
    }
    converted.raw = null;
  }
  return converted.map;
}

/** A call site that answers as `site` does, except for its line, column and text. */
function movedSite(site: NodeJS.CallSite, was: string, file: string, line: number, column: number): NodeJS.CallSite {
  const moved: Record<string, unknown> = {};
  const proto = Object.getPrototypeOf(site) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = proto[name];
    if (name !== 'constructor' && typeof method === 'function') moved[name] = () => method.call(site);
  }
  const text = String(site);
  const at = text.lastIndexOf(was);
  const now = `${file}:${line}:${column}`;
  moved.getLineNumber = () => line;
  moved.getColumnNumber = () => column;
  moved.toString = () => (at < 0 ? text : text.slice(0, at) + now + text.slice(at + was.length));
  return moved as unknown as NodeJS.CallSite;
}

/** V8's own layout of a stack, for a process where nothing else formats stacks. */
function formatStack(error: Error, trace: NodeJS.CallSite[]): string {
  let head: string;
  try {
    head = Error.prototype.toString.call(error);
  } catch {
    head = '<error>';
  }
  return head + trace.map((site) => `\n    at ${String(site)}`).join('');
}
