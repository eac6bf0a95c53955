/**
 * The durable operator state, format version 1: a plain JSON document a person can read. It holds what an
 * operator set and what the framework counted: flags (pending ones included), counters, recent exits,
 * load errors and the start/terminate history. `parseSnapshot` checks a document field by field, so a
 * file that was cut short or edited by hand is refused with what is wrong rather than half applied.
 */

/** The format version this build writes and reads. */
export const STATE_VERSION = 1;

/** One remembered failure: a running number, a JSON-safe reason, and an ISO time. */
export interface SavedExit {
  n: number;
  reason: unknown;
  at: string;
}

/** One plugin key's state: `pluginModule`'s plugin on `module`'s `point`, on `node`. */
export interface SavedPlugin {
  pluginModule: string;
  module: string;
  point: string;
  node: string;
  enabled: boolean;
  ok: number;
  exit: number;
  exits: SavedExit[];
}

/** One point's flag. */
export interface SavedPoint {
  module: string;
  point: string;
  enabled: boolean;
}

/** A load error as kept in the report, with an ISO time. */
export interface SavedLoadError {
  module?: string;
  file?: string;
  export?: string;
  message: string;
  at: string;
}

/** A document of format version 1. */
export interface StateSnapshot {
  version: typeof STATE_VERSION;
  /** The node name of the extension that wrote it. */
  node: string;
  /** The process that wrote it, and when. */
  pid: number;
  savedAt: string;
  /** True only in the document written by a clean `stop()`. */
  cleanStop: boolean;
  startCount: number;
  startTime: string | null;
  terminateCount: number;
  terminateReasons: SavedExit[];
  loadErrors: SavedLoadError[];
  points: SavedPoint[];
  plugins: SavedPlugin[];
  /** Restart counts of worker or remote nodes, by node name. */
  nodeRestarts: Record<string, number>;
}

/** Why a document was refused: the path to the bad field and what it should be. */
export class SnapshotError extends Error {}

type Check = (value: unknown, path: string) => void;

const fail = (path: string, want: string, value: unknown): never => {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  throw new SnapshotError(`${path} should be ${want}, but is ${got}`);
};
const string: Check = (v, p) => void (typeof v !== 'string' && fail(p, 'a string', v));
const count: Check = (v, p) => void (!(Number.isSafeInteger(v) && (v as number) >= 0) && fail(p, 'a whole number of 0 or more', v));
const boolean: Check = (v, p) => void (typeof v !== 'boolean' && fail(p, 'true or false', v));
const time: Check = (v, p) => void ((typeof v !== 'string' || Number.isNaN(Date.parse(v))) && fail(p, 'an ISO date string', v));
const optional = (check: Check): Check => (v, p) => void (v !== undefined && check(v, p));
const nullable = (check: Check): Check => (v, p) => void (v !== null && check(v, p));

function object(shape: Record<string, Check>): Check {
  return (v, p) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(p, 'an object', v);
    for (const [key, check] of Object.entries(shape)) check((v as Record<string, unknown>)[key], `${p}.${key}`);
  };
}

function list(check: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) fail(p, 'an array', v);
    (v as unknown[]).forEach((item, i) => check(item, `${p}[${i}]`));
  };
}

function record(check: Check): Check {
  return (v, p) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(p, 'an object', v);
    for (const [key, item] of Object.entries(v as object)) check(item, `${p}.${key}`);
  };
}

const exit = object({ n: count, at: time });
const documentV1 = object({
  node: string,
  pid: count,
  savedAt: time,
  cleanStop: boolean,
  startCount: count,
  startTime: nullable(time),
  terminateCount: count,
  terminateReasons: list(exit),
  loadErrors: list(object({ module: optional(string), file: optional(string), export: optional(string), message: string, at: time })),
  points: list(object({ module: string, point: string, enabled: boolean })),
  plugins: list(
    object({ pluginModule: string, module: string, point: string, node: string, enabled: boolean, ok: count, exit: count, exits: list(exit) }),
  ),
  nodeRestarts: record(count),
});

/**
 * Reads a document: the parsed JSON of a state file. Throws a `SnapshotError` naming the first bad field,
 * or the version when it is newer than this build reads.
 */
export function parseSnapshot(value: unknown): StateSnapshot {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('the document', 'a JSON object', value);
  const version = (value as { version?: unknown }).version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) fail('version', 'a format version number', version);
  if ((version as number) > STATE_VERSION) {
    throw new SnapshotError(
      `it has format version ${String(version)}, newer than version ${STATE_VERSION} that this extpoint reads (upgrade extpoint to read it)`,
    );
  }
  documentV1(value, 'the document');
  return value as StateSnapshot;
}
