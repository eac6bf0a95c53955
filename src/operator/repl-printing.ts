/**
 * What a REPL session prints, made safe: results and thrown values are shown with `util.inspect` but never
 * throw and never pass a control character raw (see safe-text.ts), and a thrown value that Node's REPL
 * cannot even read (a Proxy whose traps throw, an error whose `stack` getter throws) is replaced by an
 * error that says what it was. A session, and the host it runs in, never dies from what it prints.
 */
import { inspect, types, type InspectOptions } from 'node:util';
import type { EventEmitter } from 'node:events';
import type { REPLServer } from 'node:repl';
import { escapeControls, kindOf, oneLine, tryInspect, unshowable } from './safe-text.js';
import { toJson } from './report-json.js';

/** An SGR sequence: the colours and styles `util.inspect` writes. */
const SGR = /\u001b\[\d+(?:;\d+)*m/g;

/**
 * `util.inspect` for the REPL, never throwing: a value whose inspection throws (an error whose `stack`
 * getter throws, somewhere inside a call's results) is shown as its JSON-safe data instead, under a note.
 */
function inspectForRepl(value: unknown, options: InspectOptions): string {
  const text = tryInspect(value, options);
  if (text !== null) return text;
  const data = tryInspect(toJson(value), options);
  return data === null ? unshowable(value) : `// inspecting this value threw; here it is as data:\n${data}`;
}

/**
 * A value as the REPL prints it: `util.inspect` with `options`, never throwing, control characters
 * escaped (newlines kept). Colours stay only when the value's text has no control character of its own,
 * so that every escape sequence in the output is one that inspect wrote.
 */
export function printable(value: unknown, options: InspectOptions): string {
  const plain = inspectForRepl(value, { ...options, colors: false });
  const escaped = escapeControls(plain, true);
  if (options.colors !== true || escaped !== plain) return escaped;
  const coloured = inspectForRepl(value, options);
  return coloured.replace(SGR, '') === plain ? coloured : escaped;
}

/** The REPL's writer: Node's own options for the REPL (proxies shown, not run), colour as the session asks. */
export function replWriter(color: boolean): ((value: unknown) => string) & { options: InspectOptions } {
  const options: InspectOptions = { ...inspect.defaultOptions, showProxy: true, colors: color };
  return Object.assign((value: unknown) => printable(value, options), { options });
}

/** An error standing in for a thrown value that cannot be read, saying what it was. */
function standIn(thrown: unknown): Error {
  const error = new Error(`a thrown ${kindOf(thrown)} that cannot be shown: reading it threw`);
  error.stack = `Error: ${error.message}`;
  return error;
}

/**
 * `thrown` when Node's REPL can read what it reads of a thrown value before printing it (`err`,
 * `domainThrown`, `stack`, `name`, `message`, its prototype chain), otherwise a stand-in error.
 */
export function printableThrow(thrown: unknown): unknown {
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) return thrown;
  if (types.isProxy(thrown)) return standIn(thrown);
  try {
    const probe = thrown as Record<string, unknown>;
    for (const key of ['err', 'domainThrown', 'stack', 'name', 'message']) void probe[key];
    void (thrown instanceof Error);
    return thrown;
  } catch {
    return standIn(thrown);
  }
}

/** True for a promise or thenable result; false, without running anything, for a Proxy or a throwing `then`. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || typeof value !== 'object' || types.isProxy(value)) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/**
 * Makes the session's error channel (the stand-in for a domain) survive its own listener: should Node's
 * REPL throw while printing an error, the session prints a line saying so and shows its prompt again.
 */
export function guardErrorPrinting(repl: REPLServer, errors: EventEmitter): void {
  const emit = errors.emit.bind(errors);
  errors.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    try {
      return emit(event, ...args);
    } catch (failure) {
      if (event !== 'error') throw failure;
      try {
        repl.output.write(`Uncaught ${oneLine(printableThrow(args[0]))} (and printing it failed: ${oneLine(printableThrow(failure))})\n`);
        repl.clearBufferedCommand();
        repl.displayPrompt();
      } catch {
        // the session's output is gone: nothing left to tell
      }
      return true;
    }
  };
}
