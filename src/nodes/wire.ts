/**
 * The messages between a host and a worker node, and how thrown values cross: an Error becomes a plain
 * record (name, message, stack, code) and is made an Error again on the other side; anything else crosses
 * by structured clone as it is.
 */
import type { NodeCall, RemotePlugin, RemotePoint, RemoteProblem } from './node.js';

/**
 * Host to worker. The call of a point is the smallest message: `[id, plan, args]`, where `plan` names a
 * list of plugins the host sent once before (`plan`), so that each call carries only its arguments.
 */
export type ToWorker =
  | RunMessage
  | { t: 'plan'; id: number; entries: [module: string, fn: string][] }
  | { t: 'forget' }
  /** The host could not read the worker's message number `seq` (counted from 1 per worker). */
  | { t: 'lost'; seq: number; reason: string }
  | { t: 'pipe'; id: number; plan: number; state: unknown }
  /** The runs made in one turn after its first, as flat triples: id, plan, args. */
  | { t: 'runs'; runs: unknown[] }
  | { t: 'call'; id: number; batch: NodeCall[] }
  | { t: 'health'; id: number; module: string };

/** Runs every plugin of plan `plan` with `args`. */
export type RunMessage = [id: number, plan: number, args: unknown];

/**
 * The answers to a `RunMessage`: what each plugin returned, in the plan's order, and what those that
 * threw threw (at their index; 0 when none threw).
 */
export type RunAnswers = [id: number, data: unknown[], thrown: WireThrown[] | 0];

/** The answer to a `pipe` message (see `CrossingPipeAnswer`). */
export type PipeReply =
  | { t: 'piped'; id: number; ok: true; ran: number; halted: boolean; data: unknown }
  | { t: 'piped'; id: number; ok: false; ran: number; error: WireThrown };

/** Worker to host. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'install'; name: string; file?: string; plugins: RemotePlugin[]; points: RemotePoint[]; problems: RemoteProblem[]; health: boolean }
  | { t: 'uninstall'; name: string }
  | { t: 'loadError'; error: { module?: string; file?: string; export?: string; message: string } }
  | { t: 'answers'; id: number; answers: WireAnswer[] }
  | PipeReply
  | RunAnswers
  /** The answers of several runs that answered at once. */
  | { t: 'ran'; answers: RunAnswers[] };

/** An answer as it crosses: `e` marks a thrown value. */
export type WireAnswer = { ok: true; data: unknown } | { ok: false; error: WireThrown };

/** A thrown value as it crosses. */
export type WireThrown = { error: { name: string; message: string; stack?: string; code?: unknown } } | { value: unknown };

/** What crosses for a thrown value. */
export function packThrown(thrown: unknown): WireThrown {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    return { error: { name: thrown.name, message: thrown.message, stack: thrown.stack, ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}) } };
  }
  return { value: thrown };
}

/** The thrown value again: an Error with its name, message, stack and code, or the value itself. */
export function unpackThrown(wire: WireThrown): unknown {
  if ('value' in wire) return wire.value;
  const { name, message, stack, code } = wire.error;
  const error = new Error(message);
  error.name = name;
  if (stack !== undefined) error.stack = stack;
  if (code !== undefined) (error as { code?: unknown }).code = code;
  return error;
}

/**
 * Where in `value` the first thing that structured clone refuses sits, as a path from `root`
 * (`args.items[2].onDone`), or `root` itself when only the whole value can be named. Called only after
 * a clone failed, so its cost is off the normal path; depth and breadth are bounded.
 */
export function unclonablePath(value: unknown, root: string): string {
  return find(value, root, new Set(), 0) ?? root;
}

const MAX_DEPTH = 20;
const MAX_KEYS = 1000;

function find(value: unknown, path: string, seen: Set<object>, depth: number): string | null {
  if (typeof value === 'function' || typeof value === 'symbol') return path;
  if (typeof value !== 'object' || value === null || seen.has(value) || depth > MAX_DEPTH) return null;
  seen.add(value);
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const hit = find(k, `${path}.<key ${i}>`, seen, depth + 1) ?? find(v, `${path}.get(<key ${i}>)`, seen, depth + 1);
      if (hit !== null) return hit;
      if (++i >= MAX_KEYS) break;
    }
    return null;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const v of value) {
      const hit = find(v, `${path}.<item ${i}>`, seen, depth + 1);
      if (hit !== null) return hit;
      if (++i >= MAX_KEYS) break;
    }
    return null;
  }
  const keys = Object.keys(value).slice(0, MAX_KEYS);
  for (const key of keys) {
    let item: unknown;
    try {
      item = (value as Record<string, unknown>)[key];
    } catch {
      return `${path}${step(value, key)}`;
    }
    const hit = find(item, `${path}${step(value, key)}`, seen, depth + 1);
    if (hit !== null) return hit;
  }
  // No function or symbol below: the object itself (a WeakMap, a Promise, a host object) is what fails.
  if (depth > 0) {
    try {
      structuredClone(value);
    } catch {
      return path;
    }
  }
  return null;
}

function step(container: object, key: string): string {
  if (Array.isArray(container)) return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
