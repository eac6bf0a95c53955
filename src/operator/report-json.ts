/**
 * The report as JSON-safe data: what `JSON.stringify(report())`, `extpoint report --json` and (later) the
 * panel give. Whatever a plugin threw, the conversion never throws and loses nothing JSON can hold: an
 * `Error` becomes `{ name, message, code, stack }` (and its own fields), a BigInt a string, a Date an ISO
 * string, a circular reference `'[Circular]'`, a getter `'[Getter]'` (it is not run), and a value that
 * cannot be read (a Proxy, say) a short description of what it is.
 */
import { types } from 'node:util';
import { clip, isErrorLike, kindOf, readKey, safeInspect } from './safe-text.js';
import type { ReportData } from './report-rows.js';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A report as `jsonReport` gives it: the same tables, every value JSON-safe, dates as ISO strings. */
export type JsonReport = { [key: string]: Json };

/** How much of one value is kept: nesting, entries per object or array, characters per string, nodes in all. */
const MAX_DEPTH = 6;
const MAX_ENTRIES = 100;
const MAX_STRING = 10_000;
const MAX_NODES = 2_000;

interface Walk {
  /** The objects being converted, outermost first: a reference back to one of them is a circle. */
  ancestors: Set<object>;
  /** Nodes left to convert. */
  budget: number;
}

function described(value: unknown, why?: string): string {
  return `[${kindOf(value)}${why === undefined ? '' : `, ${why}`}]`;
}

function entriesOf(value: object, walk: Walk, depth: number, skip?: Set<string>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  const keys = Object.keys(value); // not a Proxy (checked before): no trap runs
  let kept = 0;
  for (const key of keys) {
    if (skip?.has(key)) continue;
    if (kept++ === MAX_ENTRIES) {
      out['…'] = `${keys.length - MAX_ENTRIES} more keys`;
      break;
    }
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) continue;
    out[key] = 'value' in descriptor ? convert(descriptor.value, walk, depth + 1) : descriptor.set === undefined ? '[Getter]' : '[Getter/Setter]';
  }
  return out;
}

function errorJson(error: Error, walk: Walk, depth: number): { [key: string]: Json } {
  const field = (key: string): Json => {
    const read = readKey(error, key);
    if ('threw' in read) return read.threw;
    if (read.value === undefined) return null;
    return typeof read.value === 'string' ? clip(read.value, MAX_STRING) : convert(read.value, walk, depth + 1);
  };
  const out: { [key: string]: Json } = { name: field('name'), message: field('message'), code: field('code'), stack: field('stack') };
  const cause = Object.getOwnPropertyDescriptor(error, 'cause');
  if (cause !== undefined) out.cause = 'value' in cause ? convert(cause.value, walk, depth + 1) : '[Getter]';
  return { ...out, ...entriesOf(error, walk, depth, new Set(['name', 'message', 'code', 'stack', 'cause'])) };
}

function convert(value: unknown, walk: Walk, depth: number): Json {
  if (walk.budget-- <= 0) return '[…]';
  switch (typeof value) {
    case 'string':
      return clip(value, MAX_STRING);
    case 'number':
      return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'symbol':
      return clip(String(value), MAX_STRING);
    case 'function': {
      const name = types.isProxy(value) ? undefined : (Object.getOwnPropertyDescriptor(value, 'name')?.value as unknown);
      return typeof name === 'string' && name !== '' ? `[${kindOf(value)} ${clip(name, 100)}]` : described(value);
    }
  }
  if (value === null) return null;
  const object = value as object;
  if (types.isProxy(object)) return described(object);
  if (walk.ancestors.has(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return described(object, 'nested too deep');
  if (types.isDate(object)) {
    return Number.isNaN(Date.prototype.getTime.call(object)) ? 'Invalid Date' : Date.prototype.toISOString.call(object);
  }
  walk.ancestors.add(object);
  try {
    if (isErrorLike(object)) return errorJson(object, walk, depth);
    if (Array.isArray(object)) {
      const items: Json[] = [];
      const length = Math.min(object.length, MAX_ENTRIES);
      for (let i = 0; i < length; i++) {
        const descriptor = Object.getOwnPropertyDescriptor(object, i);
        items.push(descriptor === undefined ? null : 'value' in descriptor ? convert(descriptor.value, walk, depth + 1) : '[Getter]');
      }
      if (object.length > MAX_ENTRIES) items.push(`… ${object.length - MAX_ENTRIES} more items`);
      return items;
    }
    if (types.isMap(object) || types.isSet(object)) {
      const items: Json[] = [];
      let size = 0;
      const add = (item: unknown) => {
        if (size++ < MAX_ENTRIES) items.push(convert(item, walk, depth + 1));
      };
      if (types.isMap(object)) Map.prototype.forEach.call(object, (v: unknown, k: unknown) => add([k, v]));
      else Set.prototype.forEach.call(object, (v: unknown) => add(v));
      if (size > MAX_ENTRIES) items.push(`… ${size - MAX_ENTRIES} more entries`);
      return items;
    }
    if (types.isBoxedPrimitive(object) || types.isRegExp(object) || types.isAnyArrayBuffer(object) || ArrayBuffer.isView(object)) {
      return clip(safeInspect(object, { depth: 0, breakLength: Infinity, maxArrayLength: 20 }), MAX_STRING);
    }
    return entriesOf(object, walk, depth);
  } catch {
    return described(object, 'cannot be read');
  } finally {
    walk.ancestors.delete(object);
  }
}

/** Any value as JSON-safe data (see the module's comment). Never throws. */
export function toJson(value: unknown): Json {
  return convert(value, { ancestors: new Set(), budget: MAX_NODES }, 0);
}

/** Each item of an array converted on its own (so that a long table is never cut), or the value. */
function table(value: unknown): Json {
  return Array.isArray(value) ? value.map(toJson) : toJson(value);
}

/**
 * A report as JSON-safe data: `status`, `plugins` and `points` (and `filter` when the report was
 * filtered), with every reason a plugin gave converted so that `JSON.stringify` never throws and
 * `JSON.parse(JSON.stringify(x))` equals `x`. The CLI's `--json`, the REPL and `JSON.stringify(report())`
 * all use it.
 */
export function jsonReport(report: ReportData): JsonReport {
  const out: JsonReport = {};
  for (const [key, value] of Object.entries(report)) {
    if (value === undefined) continue;
    if (key === 'status' && value !== null && typeof value === 'object') {
      const status: { [key: string]: Json } = {};
      for (const [name, field] of Object.entries(value as object)) status[name] = table(field);
      out.status = status;
    } else out[key] = table(value);
  }
  return out;
}

/** Characters `JSON.stringify` leaves raw that a terminal may act on: DEL, C1 controls, separators, bidi marks. */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A report as JSON text for a terminal or a file: indented, and with no control character raw. */
export function jsonReportText(report: ReportData, indent = 2): string {
  return JSON.stringify(jsonReport(report), null, indent).replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
