/**
 * The protocol between hosts and remote plugin nodes, on NATS. Every message is one JSON object with
 * `v` (the protocol version, 1) and `t` (its type); values inside calls cross through the codec
 * (codec.ts). Subjects are namespaced by the cluster name `C` and the node name `N` (both single subject
 * tokens: letters, digits, `_` and `-`):
 *
 * - `extpoint.C.discover`: a host publishes `{v,t:'discover'}` when it joins (and after a reconnect);
 *   every node answers by publishing its announcement.
 * - `extpoint.C.node.N.announce`: the node publishes `Announce` when it starts, when its plugins change,
 *   and on `discover`. It is the whole list of the node's modules every time.
 * - `extpoint.C.node.N.heartbeat`: the node publishes `Heartbeat` every `heartbeatMs`; a host that hears
 *   none for three periods marks the node down. `seq` is the number of its latest announcement: a host
 *   that has another asks for it with `describe`. `dropped` (optional) counts the requests it dropped.
 * - `extpoint.C.node.N.bye`: the node publishes `Bye` when it closes.
 * - `extpoint.C.node.N.call`: requests to the node (NATS request/reply), one of
 *   `{v,t:'call',calls:[{module,fn,args}]}` (answered `{v,t:'answers',answers:[{ok:true,data}|{ok:false,error}]}`,
 *   one per call, in order, with `args`, `data` and `error` encoded by the codec),
 *   `{v,t:'health',module}` (answered the same way, with one answer),
 *   `{v,t:'describe'}` (answered with the `Announce`), `{v,t:'ping'}` (answered `Pong`; a node starting
 *   pings its own name first and refuses to serve when someone answers). A request it cannot read is
 *   answered `{v,t:'refused',message}`.
 *
 * Parsers here never throw: what does not parse or fit is `null`, and the caller counts it as dropped.
 */
import { isModuleName, isPointName, parseExportName } from '../core/naming.js';
import { decodeValue, encodeValue, type Wire } from './codec.js';

export const PROTOCOL_VERSION = 1;

/** A node name: one NATS subject token. */
export const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** @throws TypeError when `name` cannot be a node name, saying what can. */
export function checkNodeName(name: unknown, what = 'the node name'): string {
  if (typeof name !== 'string' || !NODE_NAME.test(name)) {
    throw new TypeError(
      `extpoint: ${what} must be 1 to 64 letters, digits, '_' and '-' (it becomes a NATS subject token: no dots, spaces or wildcards), not ${JSON.stringify(name) ?? String(name)}`,
    );
  }
  return name;
}

/** The subjects of cluster `cluster`. */
export function subjects(cluster: string) {
  const base = `extpoint.${cluster}`;
  return {
    discover: `${base}.discover`,
    announce: (node: string) => `${base}.node.${node}.announce`,
    heartbeat: (node: string) => `${base}.node.${node}.heartbeat`,
    bye: (node: string) => `${base}.node.${node}.bye`,
    call: (node: string) => `${base}.node.${node}.call`,
    /** Every node's messages of one kind (`announce`, `heartbeat`, `bye`), for a host's subscription. */
    every: (kind: 'announce' | 'heartbeat' | 'bye') => `${base}.node.*.${kind}`,
    /** The node and kind of a subject under `every(kind)`; null for anything else. */
    parse(subject: string): { node: string; kind: string } | null {
      const parts = subject.split('.');
      if (parts.length !== 5 || `${parts[0]}.${parts[1]}` !== base || parts[2] !== 'node' || !NODE_NAME.test(parts[3]!)) return null;
      return { node: parts[3]!, kind: parts[4]! };
    },
  };
}
export type Subjects = ReturnType<typeof subjects>;

/** A plugin as announced. */
export interface WirePlugin {
  fn: string;
  module: string;
  point: string;
  meta: { priority: number; depends: string[] };
}
/** One module as announced: everything but its code. */
export interface WireModule {
  name: string;
  file?: string;
  plugins: WirePlugin[];
  points: Array<{ fn: string; point: string }>;
  problems: Array<{ export?: string; message: string }>;
  health: boolean;
}
/** A load error on the node (a file that did not load). */
export interface WireLoadError {
  module?: string;
  file?: string;
  export?: string;
  message: string;
}
export interface Announce {
  v: 1;
  t: 'announce';
  node: string;
  /** Random per node process: a new one means the node restarted. */
  instance: string;
  seq: number;
  heartbeatMs: number;
  modules: WireModule[];
  loadErrors: WireLoadError[];
}
export interface Heartbeat {
  v: 1;
  t: 'heartbeat';
  node: string;
  instance: string;
  seq: number;
  heartbeatMs: number;
  /** Optional: requests the node dropped since it started (they did not parse or fit). */
  dropped?: number;
}
export interface Bye {
  v: 1;
  t: 'bye';
  node: string;
  instance: string;
  reason: string;
}
export interface Pong {
  v: 1;
  t: 'pong';
  node: string;
  instance: string;
  pid: number;
  hostname: string;
}
/** A call request, as a node reads it (`args` still encoded). */
export type Request =
  | { v: 1; t: 'call'; calls: Array<{ module: string; fn: string; args: unknown }> }
  | { v: 1; t: 'health'; module: string }
  | { v: 1; t: 'describe' }
  | { v: 1; t: 'ping' };
/** An answer as it crosses. */
export type WireAnswer = { ok: true; data: Wire } | { ok: false; error: Wire };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A message as bytes. */
export function pack(message: object): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** The JSON object of a message of protocol version 1 and type `t`; null for anything else. */
function open(bytes: Uint8Array, t: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  return record.v === PROTOCOL_VERSION && record.t === t ? record : null;
}

/** The `t` of a version-1 message, or null. */
export function typeOf(bytes: Uint8Array): string | null {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { v, t } = value as { v?: unknown; t?: unknown };
  return v === PROTOCOL_VERSION && typeof t === 'string' ? t : null;
}

const MAX_LIST = 10_000;
const MAX_TEXT = 100_000;
const str = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length <= max;
const optStr = (v: unknown): boolean => v === undefined || str(v);
const list = (v: unknown): v is unknown[] => Array.isArray(v) && v.length <= MAX_LIST;
const rec = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ms = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 2_147_483_647;
const instanceOk = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);

function plugin(p: unknown, module: string): boolean {
  if (!rec(p) || !str(p.fn) || !isModuleName(p.module) || !isPointName(p.point) || !rec(p.meta)) return false;
  const parsed = parseExportName(p.fn);
  if (parsed === null || !parsed.ok || parsed.name.kind !== 'plugin' || parsed.name.module !== p.module || parsed.name.point !== p.point) return false;
  const { priority, depends } = p.meta;
  return (
    module.length > 0 &&
    typeof priority === 'number' && Number.isInteger(priority) && priority >= 0 && priority <= 100 &&
    list(depends) && depends.every(isModuleName)
  );
}

function wireModule(m: unknown): m is WireModule {
  if (!rec(m) || !isModuleName(m.name) || !optStr(m.file) || typeof m.health !== 'boolean') return false;
  if (!list(m.plugins) || !m.plugins.every((p) => plugin(p, m.name as string))) return false;
  if (!list(m.points) || !m.points.every((p) => rec(p) && str(p.fn) && isPointName(p.point))) return false;
  return list(m.problems) && m.problems.every((p) => rec(p) && optStr(p.export) && str(p.message));
}

function loadError(e: unknown): e is WireLoadError {
  return rec(e) && (e.module === undefined || isModuleName(e.module)) && optStr(e.file) && optStr(e.export) && str(e.message);
}

/** An `Announce` of node `node`, or null. */
export function parseAnnounce(bytes: Uint8Array, node: string): Announce | null {
  const m = open(bytes, 'announce');
  if (m === null || m.node !== node || !instanceOk(m.instance) || !ms(m.seq) || !ms(m.heartbeatMs)) return null;
  if (!list(m.modules) || !m.modules.every(wireModule) || !list(m.loadErrors) || !m.loadErrors.every(loadError)) return null;
  if (new Set(m.modules.map((x) => (x as WireModule).name)).size !== m.modules.length) return null;
  return m as unknown as Announce;
}

/** A `Heartbeat` of node `node`, or null. */
export function parseHeartbeat(bytes: Uint8Array, node: string): Heartbeat | null {
  const m = open(bytes, 'heartbeat');
  if (m === null || m.node !== node || !instanceOk(m.instance) || !ms(m.seq) || !ms(m.heartbeatMs)) return null;
  if (m.dropped !== undefined && !(typeof m.dropped === 'number' && Number.isSafeInteger(m.dropped) && m.dropped >= 0)) return null;
  return m as unknown as Heartbeat;
}

/** A `Bye` of node `node`, or null. */
export function parseBye(bytes: Uint8Array, node: string): Bye | null {
  const m = open(bytes, 'bye');
  if (m === null || m.node !== node || !instanceOk(m.instance) || !str(m.reason, 2000)) return null;
  return m as unknown as Bye;
}

/** A `Pong` of node `node`, or null. */
export function parsePong(bytes: Uint8Array, node: string): Pong | null {
  const m = open(bytes, 'pong');
  if (m === null || m.node !== node || !instanceOk(m.instance) || typeof m.pid !== 'number' || !str(m.hostname, 255)) return null;
  return m as unknown as Pong;
}

/** True for a `discover`. */
export function isDiscover(bytes: Uint8Array): boolean {
  return open(bytes, 'discover') !== null;
}

/** A request to a node, or null. */
export function parseRequest(bytes: Uint8Array): Request | null {
  const t = typeOf(bytes);
  if (t === null) return null;
  const m = open(bytes, t)!;
  switch (t) {
    case 'call':
      if (!list(m.calls) || m.calls.length === 0) return null;
      if (!m.calls.every((c) => rec(c) && isModuleName(c.module) && str(c.fn, 1000) && Object.hasOwn(c, 'args'))) return null;
      return m as unknown as Request;
    case 'health':
      return isModuleName(m.module) ? (m as unknown as Request) : null;
    case 'describe':
    case 'ping':
      return m as unknown as Request;
    default:
      return null;
  }
}

/** The answers of a reply to a request of `size` calls (values decoded), or a reason it does not fit. */
export function parseAnswers(bytes: Uint8Array, size: number): Array<{ ok: true; data: unknown } | { ok: false; error: unknown }> | string {
  const t = typeOf(bytes);
  if (t === 'refused') {
    const m = open(bytes, 'refused')!;
    return `the node refused the request: ${str(m.message, 2000) ? m.message : 'no reason given'}`;
  }
  const m = open(bytes, 'answers');
  if (m === null) return 'the reply is not an answers message';
  if (!list(m.answers) || m.answers.length !== size) return `the reply has ${Array.isArray(m.answers) ? m.answers.length : 'no'} answers for ${size} calls`;
  try {
    return m.answers.map((a) => {
      if (!rec(a) || typeof a.ok !== 'boolean') throw new TypeError('an answer is not { ok, data | error }');
      return a.ok ? { ok: true as const, data: decodeValue(a.data) } : { ok: false as const, error: decodeValue(a.error) };
    });
  } catch (e) {
    return `the reply does not decode: ${(e as Error).message}`;
  }
}

/** The encoded args of calls, or throws the codec's error for the first that cannot cross. */
export function callRequest(calls: ReadonlyArray<{ module: string; fn: string; args: unknown }>): Uint8Array {
  return pack({ v: PROTOCOL_VERSION, t: 'call', calls: calls.map((c) => ({ module: c.module, fn: c.fn, args: encodeValue(c.args, 'args') })) });
}
