/**
 * Turning whatever a plugin threw or returned into plain JSON data that never throws on the way: an
 * `Error` becomes `{ name, message, code, stack }`, a BigInt a string, a circular reference a marker, and
 * an object whose properties cannot be read (a hostile Proxy, a throwing getter) a short description.
 */

/** How deep nested objects are copied before the rest is cut. */
const MAX_DEPTH = 8;

/** A JSON-safe copy of `value`. Never throws. */
export function toJsonSafe(value: unknown): unknown {
  return copy(value, new Set(), 0);
}

function copy(value: unknown, seen: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return `${value.toString()}n`;
    case 'undefined':
      return null;
    case 'symbol':
      return safely(() => value.toString(), '[symbol]');
    case 'function':
      return `[function ${safely(() => String((value as { name?: unknown }).name || 'anonymous'), 'anonymous')}]`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  seen.add(obj);
  try {
    if (isError(obj)) return errorData(obj, seen, depth);
    if (obj instanceof Date) return safely(() => obj.toISOString(), '[invalid date]');
    if (Array.isArray(obj)) return obj.map((item) => copy(item, seen, depth + 1));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      out[key] = safely(() => copy((obj as Record<string, unknown>)[key], seen, depth + 1), '[unreadable property]');
    }
    return out;
  } catch {
    return '[object that cannot be read]';
  } finally {
    seen.delete(obj);
  }
}

function isError(value: object): value is Error {
  return safely(() => value instanceof Error, false);
}

function errorData(err: Error, seen: Set<object>, depth: number): Record<string, unknown> {
  const text = (read: () => unknown): string | undefined =>
    safely(() => {
      const v = read();
      return v === undefined ? undefined : typeof v === 'string' ? v : String(copy(v, seen, depth + 1));
    }, '[unreadable]');
  const out: Record<string, unknown> = { name: text(() => err.name) ?? 'Error', message: text(() => err.message) ?? '' };
  const code = safely(() => (err as { code?: unknown }).code, undefined);
  if (code !== undefined) out.code = copy(code, seen, depth + 1);
  const stack = text(() => err.stack);
  if (stack !== undefined) out.stack = stack;
  return out;
}

function safely<T>(read: () => T, otherwise: T): T {
  try {
    return read();
  } catch {
    return otherwise;
  }
}
