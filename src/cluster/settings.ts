/**
 * The `cluster` option: which NATS servers a host (or a plugin node) joins, under which cluster name,
 * with which credentials, and how long calls and heartbeats may take. Checked like every other option: a
 * bad value is a TypeError naming it and saying what would do.
 */
import { describe } from '../core/naming.js';
import { checkOptions } from '../core/options.js';

/** What `createExtension({ cluster })` and `serveNode` take. */
export interface ClusterOptions {
  /** NATS server URLs, such as `'nats://127.0.0.1:4222'` (a string or several). */
  servers: string | readonly string[];
  /** The cluster's name: every subject and bucket is namespaced by it. Default `'extpoint'`. */
  name?: string;
  /** A token the server asks for (`nats-server --auth TOKEN`). */
  token?: string;
  /** A NATS credentials file (JWT and NKey seed), for servers run with accounts. */
  creds?: string;
  /** A call to a remote node not answered within this many milliseconds gives `ETIMEOUT`. Default 1,000. */
  callTimeoutMs?: number;
  /** How often nodes send heartbeats; three missed ones mark a node down. Default 1,000. */
  heartbeatMs?: number;
}

/** `ClusterOptions` checked, with defaults filled in. */
export interface ClusterSettings {
  servers: string[];
  name: string;
  token: string | undefined;
  creds: string | undefined;
  callTimeoutMs: number;
  heartbeatMs: number;
}

const KEYS = ['servers', 'name', 'token', 'creds', 'callTimeoutMs', 'heartbeatMs'] as const;
const MAX_MS = 2_147_483_647;
/** A cluster name is one NATS subject token: no dots, spaces or wildcards. */
export const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function ms(what: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new TypeError(`extpoint: cluster.${what} must be a whole number of milliseconds from ${min} to ${MAX_MS}, not ${describe(value)}`);
  }
  return value;
}

function text(what: string, value: unknown, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`extpoint: cluster.${what} must be a non-empty string such as ${example}, not ${describe(value)}`);
  }
  return value;
}

/**
 * The settings of a `cluster` option.
 *
 * @throws TypeError naming the bad key and what would do.
 */
export function clusterSettings(options: ClusterOptions): ClusterSettings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`extpoint: option cluster must be an object such as { servers: 'nats://127.0.0.1:4222' }, not ${describe(options)}`);
  }
  checkOptions('the cluster option', options, KEYS);
  const list = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || !/^(nats|tls|wss?):\/\/\S+$/.test(s))) {
    throw new TypeError(
      `extpoint: cluster.servers must be a NATS URL such as 'nats://127.0.0.1:4222' (or an array of them), not ${describe(options.servers)}`,
    );
  }
  const name = options.name ?? 'extpoint';
  if (typeof name !== 'string' || !CLUSTER_NAME.test(name)) {
    throw new TypeError(`extpoint: cluster.name must be letters, digits, '_' and '-' (it becomes a NATS subject token), such as 'extpoint', not ${describe(name)}`);
  }
  const token = text('token', options.token, "'s3cret'");
  const creds = text('creds', options.creds, "'./node.creds'");
  if (token !== undefined && creds !== undefined) {
    throw new TypeError('extpoint: cluster.token and cluster.creds cannot both be given; a server asks for one or the other');
  }
  return {
    servers: [...list],
    name,
    token,
    creds,
    callTimeoutMs: ms('callTimeoutMs', options.callTimeoutMs, 1000, 1),
    heartbeatMs: ms('heartbeatMs', options.heartbeatMs, 1000, 10),
  };
}
