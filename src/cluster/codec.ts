/**
 * The one codec for values that cross between a host and a remote plugin node: call arguments, results,
 * thrown values and health answers. A value is turned into JSON-safe data, then `JSON.stringify`d.
 *
 * What crosses, and how (a node written in another language reads and writes the same):
 * - `null`, booleans, strings, finite numbers, arrays and plain objects: as JSON.
 * - Tagged values are objects with a `"$"` key:
 *   `{"$":"undefined"}`; `{"$":"number","v":"NaN"|"Infinity"|"-Infinity"}`;
 *   `{"$":"date","v":"2026-01-01T00:00:00.000Z"}` (`"v":null` for an invalid date);
 *   `{"$":"error","name":"TypeError","message":"...","stack":"...","code":"E..."}` (`stack`, `code` optional;
 *   decoded as an `Error` with that name, message, stack and code);
 *   `{"$":"map","v":[[key,value],...]}`; `{"$":"set","v":[value,...]}`; `{"$":"bytes","v":"<base64>"}` (a
 *   `Uint8Array` or `Buffer`, decoded as a `Uint8Array`);
 *   `{"$":"object","v":{...}}`: a plain object that has a `"$"` key of its own.
 * - Other objects (class instances) cross as their own enumerable properties, as structured clone does;
 *   an object with `toJSON` crosses as what it returns.
 * - Functions, symbols, BigInts, promises, `WeakMap`/`WeakSet`, cycles and nesting deeper than
 *   `MAX_DEPTH` do not cross: encoding throws a `CodecError` whose `path` names the value
 *   (`args.items[2].onDone`), which callers turn into `EXIT` `'EDATACLONE'`.
 *
 * Decoding is strict: an unknown tag or a malformed tagged value throws, and the message carrying it is
 * dropped by the protocol's parser.
 */

import { ERROR_CODES, ExtpointError, type ExtpointErrorCode } from '../core/errors.js';

/** Error classes a decoded error is made of when its name is theirs. */
const BUILT_IN: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** How deep a value may nest. */
export const MAX_DEPTH = 100;

/** A value that cannot be encoded: `path` says where it sits, `why` what it is. */
export class CodecError extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`${path} cannot cross as JSON: ${why}`);
    this.name = 'CodecError';
  }
}

/** JSON-safe data. */
export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

/** `value` as JSON-safe data; `root` names it in errors (`'args'`, `'result'`). @throws CodecError */
export function encodeValue(value: unknown, root: string): Wire {
  return enc(value, root, new Set(), 0);
}

function enc(value: unknown, path: string, parents: Set<object>, depth: number): Wire {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : { $: 'number', v: String(value) };
    case 'undefined':
      return { $: 'undefined' };
    case 'bigint':
      throw new CodecError(path, 'a BigInt has no JSON form; send it as a string');
    case 'symbol':
      throw new CodecError(path, 'a symbol does not cross');
    case 'function':
      throw new CodecError(path, 'a function does not cross (only data does)');
  }
  if (value === null) return null;
  const object = value as object;
  if (depth >= MAX_DEPTH) throw new CodecError(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (parents.has(object)) throw new CodecError(path, 'it refers back to an object that contains it (a cycle)');
  parents.add(object);
  try {
    return encObject(object, path, parents, depth + 1);
  } finally {
    parents.delete(object);
  }
}

function encObject(value: object, path: string, parents: Set<object>, depth: number): Wire {
  if (Array.isArray(value)) {
    const out: Wire[] = new Array<Wire>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = enc(value[i], `${path}[${i}]`, parents, depth);
    return out;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return { $: 'date', v: Number.isNaN(time) ? null : value.toISOString() };
  }
  if (value instanceof Error) {
    const out: { [key: string]: Wire } = { $: 'error', name: String(value.name), message: String(value.message) };
    if (typeof value.stack === 'string') out.stack = value.stack;
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string' || (typeof code === 'number' && Number.isFinite(code))) out.code = code;
    return out;
  }
  if (value instanceof Map) {
    const entries: Wire[] = [];
    let i = 0;
    for (const [k, v] of value) {
      entries.push([enc(k, `${path}.<key ${i}>`, parents, depth), enc(v, `${path}.get(<key ${i}>)`, parents, depth)]);
      i++;
    }
    return { $: 'map', v: entries };
  }
  if (value instanceof Set) {
    const items: Wire[] = [];
    let i = 0;
    for (const v of value) items.push(enc(v, `${path}.<item ${i++}>`, parents, depth));
    return { $: 'set', v: items };
  }
  if (value instanceof Uint8Array) return { $: 'bytes', v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Promise || typeof (value as { then?: unknown }).then === 'function') throw new CodecError(path, 'a promise does not cross; await it first');
  if (value instanceof WeakMap || value instanceof WeakSet || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw new CodecError(path, `a ${value.constructor.name} does not cross`);
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return enc(toJSON.call(value), path, parents, depth);
  const out: { [key: string]: Wire } = {};
  let tagged = false;
  for (const key of Object.keys(value)) {
    const item = enc((value as Record<string, unknown>)[key], `${path}${step(key)}`, parents, depth);
    if (key === '$') tagged = true;
    put(out, key, item);
  }
  return tagged ? { $: 'object', v: out } : out;
}

function step(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Sets an own property even for the key `__proto__`, which plain assignment would treat as the prototype. */
function put(into: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

/** The value that `encodeValue` made `wire` from. @throws TypeError for anything this codec does not write. */
export function decodeValue(wire: unknown, depth = 0): unknown {
  if (wire === null || typeof wire === 'string' || typeof wire === 'boolean') return wire;
  if (typeof wire === 'number') return wire;
  if (depth >= MAX_DEPTH + 2) throw new TypeError('nested too deep');
  if (Array.isArray(wire)) return wire.map((item) => decodeValue(item, depth + 1));
  if (typeof wire !== 'object') throw new TypeError(`not JSON data: ${typeof wire}`);
  const record = wire as Record<string, unknown>;
  if (!Object.hasOwn(record, '$')) return decodeObject(record, depth);
  const v = record.v;
  switch (record.$) {
    case 'undefined':
      return undefined;
    case 'number':
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      break;
    case 'date':
      if (v === null) return new Date(NaN);
      if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v);
      break;
    case 'error': {
      const { name, message, stack, code } = record;
      if (typeof name !== 'string' || typeof message !== 'string') break;
      if (stack !== undefined && typeof stack !== 'string') break;
      if (code !== undefined && typeof code !== 'string' && typeof code !== 'number') break;
      // extpoint's own errors come back as such, so that `isExtpointError(data, EDATACLONE)` holds.
      const error =
        name === 'ExtpointError' && (ERROR_CODES as readonly unknown[]).includes(code)
          ? new ExtpointError(code as ExtpointErrorCode, message)
          : new (Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name]! : Error)(message);
      if (error.name !== name) error.name = name;
      if (stack !== undefined) error.stack = stack;
      if (code !== undefined) (error as { code?: unknown }).code = code;
      return error;
    }
    case 'map':
      if (Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2)) {
        return new Map((v as unknown[][]).map(([k, x]) => [decodeValue(k, depth + 1), decodeValue(x, depth + 1)]));
      }
      break;
    case 'set':
      if (Array.isArray(v)) return new Set(v.map((x) => decodeValue(x, depth + 1)));
      break;
    case 'bytes':
      if (typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v)) return new Uint8Array(Buffer.from(v, 'base64'));
      break;
    case 'object':
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return decodeObject(v as Record<string, unknown>, depth);
      break;
  }
  throw new TypeError(`not a value this codec writes: tag ${JSON.stringify(record.$)}`);
}

function decodeObject(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) put(out, key, decodeValue(record[key], depth + 1));
  return out;
}
