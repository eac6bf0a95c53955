/**
 * The plugin-folder entries that ask for a node of their own:
 * `{ path, node, isolation: 'worker', resourceLimits?, restart?, callTimeoutMs?, startTimeoutMs? }`.
 * Checked like every other option: a bad one is a TypeError naming it and saying what would do.
 */
import { resolve } from 'node:path';
import type { ResourceLimits } from 'node:worker_threads';
import { describe, isModuleName } from '../core/naming.js';
import { checkOptions } from '../core/options.js';
import { DEFAULT_RESTART, type RestartLimits } from './restart-policy.js';
import type { WorkerNodeSettings } from './worker-node.js';

/** A plugin folder whose plugins run on their own node, in a worker thread. */
export interface NodeDirOptions {
  /** The folder; relative paths are resolved against the current directory. */
  path: string;
  /** The node's name, shown in every result's `info.node`; not the extension's own node name. */
  node: string;
  /** Where the node runs; only `'worker'` (a `node:worker_threads` worker) for now. */
  isolation: 'worker';
  /** The worker's `resourceLimits` (heap sizes, stack size), as `node:worker_threads` takes them. */
  resourceLimits?: ResourceLimits;
  /** More than `intensity` restarts within `periodMs` leaves the node down. Default 3 in 60,000 ms. */
  restart?: Partial<RestartLimits>;
  /** A call to the node not answered within this many milliseconds gives `ETIMEOUT` and restarts the worker. Default 5,000. */
  callTimeoutMs?: number;
  /** A worker that has not loaded its folder within this many milliseconds is restarted. Default 10,000. */
  startTimeoutMs?: number;
}

const KEYS = ['path', 'node', 'isolation', 'resourceLimits', 'restart', 'callTimeoutMs', 'startTimeoutMs'] as const;
const LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;
const MAX_MS = 2_147_483_647;

/** True for a `pluginDirs` entry that is an object (a folder on its own node). */
export function isNodeDir(entry: unknown): entry is NodeDirOptions {
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry);
}

function ms(what: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new TypeError(`extpoint: ${what} must be a whole number of milliseconds from ${min} to ${MAX_MS}, not ${describe(value)}`);
  }
  return value;
}

/**
 * The settings of a worker node from a `pluginDirs` entry.
 *
 * @throws TypeError naming the bad key.
 */
export function nodeSettings(entry: NodeDirOptions, localNode: string, watch: boolean, checkPermissions: boolean): WorkerNodeSettings {
  checkOptions('a pluginDirs entry', entry, KEYS);
  const { path, node, isolation, resourceLimits, restart } = entry;
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`extpoint: pluginDirs entry needs path, a folder path such as './untrusted', not ${describe(path)}`);
  }
  if (typeof node !== 'string' || !isModuleName(node) || node === localNode) {
    throw new TypeError(
      `extpoint: pluginDirs entry ${describe(path)} needs node, a name of 1 to 255 letters, digits, _ - . or $ other than ` +
        `the extension's own node "${localNode}", not ${describe(node)}`,
    );
  }
  if (isolation !== 'worker') {
    throw new TypeError(`extpoint: pluginDirs entry ${describe(path)} needs isolation: 'worker' (the only kind of node so far), not ${describe(isolation)}`);
  }
  if (resourceLimits !== undefined) {
    checkOptions('resourceLimits', resourceLimits, LIMIT_KEYS);
    for (const [key, value] of Object.entries(resourceLimits)) {
      if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`extpoint: resourceLimits.${key} must be a positive number of megabytes, not ${describe(value)}`);
    }
  }
  let limits = DEFAULT_RESTART;
  if (restart !== undefined) {
    checkOptions('restart', restart, ['intensity', 'periodMs']);
    const { intensity = DEFAULT_RESTART.intensity, periodMs = DEFAULT_RESTART.periodMs } = restart;
    if (typeof intensity !== 'number' || !Number.isInteger(intensity) || intensity < 0 || intensity > 1000) {
      throw new TypeError(`extpoint: restart.intensity must be a whole number of restarts from 0 to 1000, not ${describe(intensity)}`);
    }
    limits = { intensity, periodMs: ms('restart.periodMs', periodMs, 1)! };
  }
  return {
    name: node,
    dir: resolve(path),
    watch,
    checkPermissions,
    ...(resourceLimits === undefined ? {} : { resourceLimits: { ...resourceLimits } }),
    restart: limits,
    callTimeoutMs: ms('callTimeoutMs', entry.callTimeoutMs, 1) ?? 5_000,
    startTimeoutMs: ms('startTimeoutMs', entry.startTimeoutMs, 1) ?? 10_000,
  };
}
