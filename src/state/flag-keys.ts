/**
 * How one flag is written in the cluster's key-value bucket: its key names what it flags, its value says
 * enabled or not. Keys are `point.<module>.<point>` and `plugin.<module>.<point>.<pluginModule>.<node>`;
 * each name is one key token, spelled safely for NATS (which allows only `-/_=.` letters and digits): `A-Z
 * a-z 0-9 _ -` stay as they are, every other UTF-8 byte is written `=XX` (upper-case hex), so `billing.eu`
 * is `billing=2Eeu`. Values are JSON: `{"enabled":false,"by":"<host node>","at":"<ISO time>"}`; only
 * `enabled` is read. Reading is strict: a key or value that is not exactly this, or that names what no
 * flag call could, is refused with the reason (a rogue client's garbage is never applied).
 */
import { isModuleName, isPointName, isTargetModule } from '../core/naming.js';

/** What a flag is set on: a point, or one plugin module's plugin on a point on a node. */
export type FlagRef =
  | { kind: 'point'; module: string; point: string }
  | { kind: 'plugin'; module: string; point: string; pluginModule: string; node: string };

/** The longest node name a key may carry. */
const MAX_NODE = 255;
/** The largest value read; a flag's value is a few dozen bytes. */
export const MAX_FLAG_VALUE = 1024;

const KEPT = /^[A-Za-z0-9_-]$/;
const PLAIN = /^[A-Za-z0-9_-]+$/;
const TOKEN = /^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** One name as one key token. */
export function encodeToken(name: string): string {
  if (PLAIN.test(name)) return name;
  let out = '';
  for (const ch of name) {
    if (KEPT.test(ch)) out += ch;
    else for (const byte of utf8.encode(ch)) out += '=' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The name a key token spells, or null when it is not a token `encodeToken` writes. */
export function decodeToken(token: string): string | null {
  if (!TOKEN.test(token)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; ) {
    if (token[i] === '=') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i++;
    }
  }
  let name: string;
  try {
    name = strictUtf8.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
  // One spelling per name: an escaped letter or digit would be a second key for the same flag.
  return encodeToken(name) === token ? name : null;
}

/** The bucket key of a flag. */
export function flagKey(ref: FlagRef): string {
  const head = `${encodeToken(ref.module)}.${encodeToken(ref.point)}`;
  return ref.kind === 'point' ? `point.${head}` : `plugin.${head}.${encodeToken(ref.pluginModule)}.${encodeToken(ref.node)}`;
}

/** The flag a bucket key names; throws an Error saying what is wrong with it. */
export function parseFlagKey(key: string): FlagRef {
  const tokens = key.split('.');
  const [kind, ...rest] = tokens;
  const want = kind === 'point' ? 2 : kind === 'plugin' ? 4 : -1;
  if (want < 0) throw new Error(`key ${JSON.stringify(key)} starts with neither "point." nor "plugin."`);
  if (rest.length !== want) throw new Error(`key ${JSON.stringify(key)} has ${rest.length} names after "${kind}.", not ${want}`);
  const names = rest.map((t) => decodeToken(t));
  const bad = names.indexOf(null);
  if (bad >= 0) throw new Error(`key ${JSON.stringify(key)}: ${JSON.stringify(rest[bad])} is not an encoded name`);
  const [module, point, pluginModule, node] = names as string[];
  if (!isTargetModule(module)) throw new Error(`key ${JSON.stringify(key)}: ${JSON.stringify(module)} is not a module a point belongs to`);
  if (!isPointName(point)) throw new Error(`key ${JSON.stringify(key)}: ${JSON.stringify(point)} is not a point name`);
  if (kind === 'point') return { kind, module: module!, point: point! };
  if (!isModuleName(pluginModule)) throw new Error(`key ${JSON.stringify(key)}: ${JSON.stringify(pluginModule)} is not a plugin module name`);
  if (node!.length > MAX_NODE) throw new Error(`key ${JSON.stringify(key)}: its node name is longer than ${MAX_NODE} characters`);
  return { kind: 'plugin', module: module!, point: point!, pluginModule: pluginModule!, node: node! };
}

/** A flag's value as written to the bucket. */
export function flagValue(enabled: boolean, by: string): Uint8Array {
  return utf8.encode(JSON.stringify({ enabled, by, at: new Date().toISOString() }));
}

/** Whether a bucket value says enabled; throws an Error saying what is wrong with it. */
export function parseFlagValue(bytes: Uint8Array): boolean {
  if (bytes.length > MAX_FLAG_VALUE) throw new Error(`its value is ${bytes.length} bytes, more than a flag's ${MAX_FLAG_VALUE}`);
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new Error('its value is not JSON');
  }
  const enabled = (value as { enabled?: unknown } | null)?.enabled;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof enabled !== 'boolean') {
    throw new Error('its value is not an object such as {"enabled":false}');
  }
  return enabled;
}

/** A flag for messages: `plugin anat on billing/checkout (node local)`, `point billing/checkout`. */
export function describeFlag(ref: FlagRef): string {
  return ref.kind === 'point' ? `point ${ref.module}/${ref.point}` : `plugin ${ref.pluginModule} on ${ref.module}/${ref.point} (node ${ref.node})`;
}
