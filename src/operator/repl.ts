/**
 * An operator's REPL on an extension: a `node:repl` session (top-level await included) whose scope holds
 * `extension` and its calls bound to it (`report()`, `callPlugins()`, `enablePlugin()`, ...), with tab
 * completion of module and point names inside the quotes of those calls. Used by `extpoint repl` on the
 * local terminal and by `serveRepl` for each operator attached over a socket.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { REPLServer, ReplOptions } from 'node:repl';
import type { Report } from './report.js';
import { parseExportName } from '../core/naming.js';
import { completeCommand, defineCommands, flagSentence, type CommandTarget, type KnownNames } from './repl-commands.js';
import { guardErrorPrinting, isThenable, printableThrow, replWriter } from './repl-printing.js';
import { jsonReport } from './report-json.js';

/** What a REPL session needs. */
export interface ReplSessionOptions {
  input: Readable;
  output: Writable;
  /** Whether the other side is a terminal (line editing, tab completion, raw keys). */
  terminal: boolean;
  /** ANSI colours in results: only for a terminal that has them (see colorsFor in terminal-text). */
  color: boolean;
  /** The prompt; default `'extpoint> '`. */
  prompt?: string;
  /** Written before the first prompt. */
  banner?: string;
}

/** The names put in every session's scope, each a call on the session's extension. */
export const SCOPE_CALLS = [
  'report',
  'callPlugins',
  'callPluginsSync',
  'notify',
  'pipe',
  'point',
  'enablePlugin',
  'disablePlugin',
  'enablePoint',
  'disablePoint',
  'profile',
  'health',
] as const;

/**
 * What a REPL session needs of an extension: its node name, its report, and the calls put in scope.
 * Declared here so that the operator's tools do not import the facade that serves them.
 */
export type ReplTarget = { readonly node: string; report(): Report } & {
  [K in (typeof SCOPE_CALLS)[number]]: (...args: never[]) => unknown;
} & CommandTarget;

/** Which argument of which call is what, for completion. */
const ARGUMENT_ROLES: Record<string, readonly Role[]> = {
  callPlugins: ['module', 'point'],
  callPluginsSync: ['module', 'point'],
  notify: ['module', 'point'],
  pipe: ['module', 'point'],
  point: ['module', 'point'],
  enablePoint: ['module', 'point'],
  disablePoint: ['module', 'point'],
  profile: ['module', 'point'],
  health: ['module', 'point'],
  enablePlugin: ['plugin', 'module', 'point'],
  disablePlugin: ['plugin', 'module', 'point'],
};

type Role = 'plugin' | 'module' | 'point';

/**
 * A call of ours whose arguments so far are string literals and whose last argument is an open string:
 * `disablePlugin('anat', 'plugin_de`. Groups: the call, the finished arguments, the open quote's text.
 */
const OPEN_CALL = /\b([A-Za-z]+)\(\s*((?:(['"`])[^'"`]*\3\s*,\s*)*)['"`]([^'"`]*)$/;
const FINISHED_ARG = /(['"`])([^'"`]*)\1/g;

function knownNames(extension: ReplTarget): KnownNames {
  const { points: pointRows, plugins: pluginRows } = extension.report();
  const points = new Map<string, Set<string>>();
  const plugins = new Map<string, Map<string, Set<string>>>();
  const addPoint = (module: string, point: string) => {
    let set = points.get(module);
    if (set === undefined) points.set(module, (set = new Set()));
    set.add(point);
  };
  for (const row of pointRows) {
    const parsed = parseExportName(row.fn);
    if (parsed?.ok) addPoint(parsed.name.module, parsed.name.point);
  }
  for (const row of pluginRows) {
    const parsed = parseExportName(row.fn);
    if (!parsed?.ok) continue;
    const { module, point } = parsed.name;
    addPoint(module, point);
    let served = plugins.get(row.module);
    if (served === undefined) plugins.set(row.module, (served = new Map()));
    let set = served.get(module);
    if (set === undefined) served.set(module, (set = new Set()));
    set.add(point);
  }
  return { points, plugins };
}

/** The candidates for the open argument of `call`, given the finished ones; null when it is not ours. */
function candidates(names: KnownNames, call: string, finished: string[]): string[] | null {
  const roles = ARGUMENT_ROLES[call];
  const role = roles?.[finished.length];
  if (roles === undefined || role === undefined) return null;
  if (role === 'plugin') return [...names.plugins.keys()];
  const ofPlugin = roles[0] === 'plugin' ? names.plugins.get(finished[0]!) : undefined;
  if (role === 'module') return [...(ofPlugin ?? names.points).keys()];
  const module = finished[roles.indexOf('module')]!;
  return [...((ofPlugin ?? names.points).get(module) ?? [])];
}

/**
 * Completes module, point and plugin-module names inside the quotes of our calls; null when the line
 * is not such a call (the caller then falls back to Node's own completion).
 */
export function completeNames(extension: ReplTarget, line: string): [string[], string] | null {
  const open = OPEN_CALL.exec(line);
  if (open === null) return null;
  const [, call, args, , partial] = open as unknown as [string, string, string, string, string];
  const finished = [...args.matchAll(FINISHED_ARG)].map((m) => m[2]!);
  const all = candidates(knownNames(extension), call, finished);
  if (all === null) return null;
  return [all.filter((name) => name.startsWith(partial)).sort(), partial];
}

/**
 * Stands in for the domain Node's REPL would create for each session. Creating any domain switches on
 * async hooks for the whole process, for good, which makes every promise in the host (every async plugin
 * call) several times slower (see the README). The REPL only binds its eval through it and reports
 * evaluation errors on it, which this does without hooks; the REPL's own `error` handler prints them.
 */
class SessionErrors extends EventEmitter {
  bind<F>(fn: F): F {
    return fn;
  }
}

/**
 * Marks a promise that an evaluation returned (`callPlugins('x')` typed without `await`) as handled, so
 * that its rejection is printed by the REPL instead of becoming the host's unhandled rejection.
 */
function guardResults(repl: REPLServer): void {
  type Finish = (err: Error | null, result?: unknown) => void;
  const evaluate = repl.eval;
  (repl as { eval: typeof repl.eval }).eval = function (this: REPLServer, code, context, file, finish: Finish) {
    evaluate.call(this, code, context, file, (err: Error | null, result?: unknown) => {
      if (isThenable(result)) Promise.resolve(result).catch(() => {});
      finish(printableThrow(err) as Error | null, result);
    });
  };
}

/** The session's scope: the extension and its calls, bound to it, and `jsonReport` for the report as data; a flag call that is pending says so on `say`. */
function scopeOf(extension: ReplTarget, say: (line: string) => void): Record<string, unknown> {
  const scope: Record<string, unknown> = { extension, jsonReport };
  for (const name of SCOPE_CALLS) {
    const method = extension[name] as (...args: unknown[]) => unknown;
    scope[name] = method.bind(extension);
  }
  for (const [name, enabled, plugin] of FLAG_CALLS) {
    const method = extension[name] as (...args: string[]) => ReturnType<CommandTarget[typeof name]>;
    scope[name] = (...args: string[]) => {
      const outcome = method.apply(extension, args);
      if (outcome === 'pending') {
        const [a, b, c] = args as [string, string, string];
        say(plugin ? flagSentence(outcome, enabled, a, b, c) : flagSentence(outcome, enabled, null, a, b));
      }
      return outcome;
    };
  }
  return scope;
}

/** The flag calls in scope: whether each enables, and whether it names a plugin. */
const FLAG_CALLS = [
  ['enablePlugin', true, true],
  ['disablePlugin', false, true],
  ['enablePoint', true, false],
  ['disablePoint', false, false],
] as const;

/**
 * Feeds piped (non-terminal) input to the REPL one line at a time, each after the previous line has
 * finished (its prompt shown), so that `await callPlugins(...)` completes before the next line runs.
 * Node's REPL would otherwise run every line of a chunk at once, while earlier awaits are still pending.
 */
function feedLineByLine(source: Readable, repl: REPLServer, sink: PassThrough): void {
  const lines: string[] = [];
  let partial = '';
  let ready = true; // the REPL showed its first prompt when it started
  let ended = false;
  let closed = false;
  const pump = () => {
    if (closed) return;
    if (ready && lines.length > 0) {
      ready = false;
      sink.write(lines.shift()! + '\n');
    } else if (ended && lines.length === 0) {
      if (partial !== '') {
        lines.push(partial);
        partial = '';
        return pump();
      }
      sink.end();
    }
  };
  const display = repl.displayPrompt.bind(repl);
  repl.displayPrompt = (preserveCursor?: boolean) => {
    display(preserveCursor);
    ready = true;
    setImmediate(pump);
  };
  repl.once('exit', () => {
    closed = true;
    source.unpipe?.();
  });
  source.setEncoding('utf8');
  source.on('data', (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n/);
    partial = parts.pop()!;
    lines.push(...parts);
    pump();
  });
  source.on('end', () => {
    ended = true;
    pump();
  });
  source.on('error', () => {
    ended = true;
    pump();
  });
}

/**
 * Starts a REPL session on `extension`. Resolves to the running `REPLServer`; it emits `exit` when the
 * session ends (`.exit`, end of input), which never stops the extension.
 */
export async function startReplSession(extension: ReplTarget, options: ReplSessionOptions): Promise<REPLServer> {
  const { start } = await import('node:repl');
  const piped = !options.terminal;
  const input = piped ? new PassThrough() : options.input;
  if (options.banner !== undefined) options.output.write(options.banner.endsWith('\n') ? options.banner : options.banner + '\n');
  const errors = new SessionErrors();
  const replOptions: ReplOptions & { domain: SessionErrors } = {
    domain: errors,
    writer: replWriter(options.color),
    input,
    output: options.output,
    terminal: options.terminal,
    useColors: options.color,
    prompt: options.prompt ?? 'extpoint> ',
    ignoreUndefined: true,
    preview: false,
  };
  const repl = start(replOptions);
  const say = (line: string) => options.output.write(line + '\n');
  Object.assign(repl.context, scopeOf(extension, say));
  repl.on('reset', (context: object) => Object.assign(context, scopeOf(extension, say))); // after .clear
  defineCommands(repl, extension, options.color);
  guardResults(repl);
  guardErrorPrinting(repl, errors);
  // readline forwards its input's errors (a vanished operator's socket) to the REPL: end only this session.
  repl.on('error', () => repl.close());

  type Callback = (err: Error | null, result?: [string[], string]) => void;
  const completable = repl as unknown as { completer: (line: string, callback: Callback) => void };
  const nodeCompleter = completable.completer;
  completable.completer = (line: string, callback: Callback) => {
    let ours: [string[], string] | null = null;
    try {
      ours = completeCommand(knownNames(extension), line) ?? completeNames(extension, line);
    } catch {
      ours = null;
    }
    if (ours !== null) callback(null, ours);
    else nodeCompleter.call(repl, line, callback);
  };

  if (piped) {
    feedLineByLine(options.input, repl, input as PassThrough);
    // End the last prompt's line, so that whatever is printed next starts on a line of its own.
    repl.once('exit', () => {
      if (options.output.writable && !options.output.destroyed) options.output.write('\n');
    });
  }
  return repl;
}
