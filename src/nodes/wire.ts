/**
 * The messages between a host and a worker node, and how thrown values cross: an Error becomes a plain
 * record (name, message, stack, code) and is made an Error again on the other side; anything else crosses
 * by structured clone as it is.
 */
import type { NodeCall, RemotePlugin, RemotePoint, RemoteProblem } from './node.js';

/** Host to worker. */
export type ToWorker =
  | { t: 'call'; id: number; batch: NodeCall[] }
  | { t: 'health'; id: number; module: string };

/** Worker to host. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'install'; name: string; file?: string; plugins: RemotePlugin[]; points: RemotePoint[]; problems: RemoteProblem[]; health: boolean }
  | { t: 'uninstall'; name: string }
  | { t: 'loadError'; error: { module?: string; file?: string; export?: string; message: string } }
  | { t: 'answers'; id: number; answers: WireAnswer[] };

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
