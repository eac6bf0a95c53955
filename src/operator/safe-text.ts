/**
 * Text for an operator made from values a plugin controls. Nothing here throws, whatever the value (a
 * Proxy whose traps throw, an error that rethrows itself when inspected, a getter that throws), and no
 * control character reaches the terminal raw: a plugin cannot send escape sequences (colours, titles,
 * cursor moves) to an operator's terminal through a name, a message or a value.
 */
import { inspect, types, type InspectOptions } from 'node:util';

/** C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional marks and overrides. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The same, newline aside: for text that is meant to span lines. */
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  const hex = code.toString(16).toUpperCase();
  return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
}

/**
 * `text` with every control character written as an escape (`\x1B`, `\r`, `\u202E`), the way
 * `util.inspect` writes them inside strings. With `keepNewlines`, newlines stay (for multi-line output).
 */
export function escapeControls(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, escapeOne);
}

/** The name of an object's class, read without running any of its code; null when it has none. */
function className(value: object): string | null {
  try {
    let proto: unknown = Object.getPrototypeOf(value);
    for (let i = 0; i < 20 && proto !== null && typeof proto === 'object' && !types.isProxy(proto); i++) {
      const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
      if (typeof ctor === 'function' && !types.isProxy(ctor)) {
        const name = Object.getOwnPropertyDescriptor(ctor, 'name')?.value as unknown;
        if (typeof name === 'string' && name !== '') return escapeControls(name).slice(0, 60);
      }
      proto = Object.getPrototypeOf(proto);
    }
  } catch {
    // a prototype chain that cannot be walked: no name
  }
  return null;
}

/**
 * What a value is, in a few words, found without calling any of its code: `string`, `Proxy`,
 * `revoked Proxy`, `TypeError`, `object`.
 */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  const type = typeof value;
  if (type !== 'object' && type !== 'function') return type;
  if (types.isProxy(value)) {
    let revoked = false;
    try {
      // With showProxy off, inspect shows a live Proxy's target without running a trap.
      revoked = inspect(value, { depth: 0, customInspect: false }) === '<Revoked Proxy>';
    } catch {
      revoked = false;
    }
    return revoked ? 'revoked Proxy' : type === 'function' ? 'Proxy function' : 'Proxy';
  }
  return className(value as object) ?? (type === 'function' ? 'function' : 'object');
}

/** `util.inspect`, or null when the value's own code throws while being shown. */
export function tryInspect(value: unknown, options: InspectOptions = {}): string | null {
  // First as asked; then without the values' own inspect methods (one that throws spoils only itself).
  for (const attempt of [options, { ...options, customInspect: false }]) {
    try {
      const text = inspect(value, attempt);
      if (typeof text === 'string') return text;
    } catch {
      // the value's own code threw while being shown
    }
  }
  return null;
}

/** What a value that cannot be shown is shown as. */
export function unshowable(value: unknown): string {
  return `[${kindOf(value)} that cannot be shown: inspecting it threw]`;
}

/** `util.inspect`, except that it never throws: a value that cannot be shown is described instead. */
export function safeInspect(value: unknown, options: InspectOptions = {}): string {
  return tryInspect(value, options) ?? unshowable(value);
}

/** `value[key]`, or a note saying that reading it threw. */
export function readKey(value: object, key: string): { value: unknown } | { threw: string } {
  try {
    return { value: (value as Record<string, unknown>)[key] };
  } catch {
    return { threw: `[${key} threw when read]` };
  }
}

/** True for errors: native ones, and objects whose prototype chain holds Error.prototype. Runs no trap. */
export function isErrorLike(value: unknown): value is Error {
  if (value === null || typeof value !== 'object' || types.isProxy(value)) return false;
  if (types.isNativeError(value)) return true;
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** A property of an error as one line of text, or null when absent. */
function errorField(error: object, key: string): string | null {
  const read = readKey(error, key);
  if ('threw' in read) return read.threw;
  if (read.value === undefined || read.value === null) return null;
  return typeof read.value === 'string' ? read.value : safeInspect(read.value, { depth: 0, breakLength: Infinity });
}

/** `Name [code]: message` for an error, read field by field so that one throwing getter spoils only itself. */
function errorLine(error: Error): string {
  const name = errorField(error, 'name') ?? kindOf(error);
  const code = errorField(error, 'code');
  const message = errorField(error, 'message') ?? '';
  return `${name}${code !== null ? ` [${code}]` : ''}: ${message}`;
}

/** An error's message, or any other value as `oneLine` shows it; raw (not escaped), never throwing. */
export function messageOf(value: unknown): string {
  if (isErrorLike(value)) return errorField(value, 'message') ?? '';
  return typeof value === 'string' ? value : safeInspect(value, { depth: 2, breakLength: Infinity });
}

/** Shortens `text` to at most `max` characters, marking the cut with `…`. */
export function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, Math.max(0, max - 1)) + '…' : text;
}

/**
 * One line of at most `max` characters for any value a plugin threw or returned: errors as
 * `Name [code]: message`, strings as they are, anything else as `util.inspect` shows it. Never throws;
 * control characters come out escaped.
 */
export function oneLine(value: unknown, max = 160): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (isErrorLike(value)) text = errorLine(value);
  else text = safeInspect(value, { depth: 2, breakLength: Infinity, showProxy: false });
  text = escapeControls(text.replace(/(?:\r?\n|[ \t])+/g, ' ').trim());
  return clip(text, max);
}
