/**
 * The shapes an extension is made, started and observed with: its options, its events, and point handles;
 * and the check of the plugin-folder options.
 */
import type { ModuleHost } from './registry/module-host.js';
import type { ModuleOrigin } from './registry/registry.js';
import type { ModuleEvent } from './registry/module-installer.js';
import type { LoadError } from './core/history.js';
import { describe } from './core/naming.js';
import { checkOptions } from './core/options.js';
import type { CallOptions, PipeOptions, PluginResult } from './core/types.js';
import { PluginFolders } from './modules/folder.js';
import { FileStore } from './state/file-store.js';
import { LOAD_GUARD, type LoadGuard } from './modules/load-guard.js';
import { isNodeDir, nodeSettings, type NodeDirOptions } from './nodes/options.js';
import type { NodeEvent } from './nodes/node.js';
import type { WorkerNodeSettings } from './nodes/worker-node.js';
import { installedGuard } from './modules/installed.js';
import type { ClusterOptions } from './cluster/settings.js';

/** Options of `createExtension`. */
export interface ExtensionOptions {
  /** This instance's node name, shown in every result's `info.node` and report row. Default `'local'`. */
  node?: string;
  /**
   * Whether `start()` and `restart()` walk the modules Node has loaded (`require.cache`, and ES modules
   * recorded by `extpoint/register`). Default true.
   */
  scanLoaded?: boolean;
  /**
   * Plugin folders: `start()` loads every `.js`, `.cjs` and `.mjs` file in them (recursively, skipping
   * `node_modules` and dot-folders) and, with `watch`, keeps them live as files come, change and go.
   * Relative paths are resolved against the current directory. Default none. An entry may instead be an
   * object that runs the folder's plugins on their own node in a worker thread (see `NodeDirOptions`).
   */
  pluginDirs?: readonly (string | NodeDirOptions)[];
  /** Whether plugin folders are watched for changes. Default true when `pluginDirs` is given. */
  watch?: boolean;
  /**
   * Whether plugin files are refused when they, or a folder from the plugin folder down to them, are
   * world-writable or owned by another user than the process's own or root. Default true.
   */
  checkPermissions?: boolean;
  /**
   * A JSON file that keeps operator state across restarts and crashes: flags (written through before a
   * flag call returns), counters, recent exits, load errors and the start/terminate history (flushed every
   * `stateFlushMs` and on `stop()`). Loaded by `start()` before any plugin runs. Default none.
   */
  stateFile?: string;
  /** How often counters and history are flushed to `stateFile`, in milliseconds. Default 1,000. */
  stateFlushMs?: number;
  /**
   * What a state file that cannot be used does: `'reject'` makes `start()` reject (`ESTATECORRUPT`),
   * `'backup'` moves it aside as `<file>.corrupt-<time>`, records a load error, and starts fresh. Default `'reject'`.
   */
  onCorruptState?: 'reject' | 'backup';
  /**
   * Joins a cluster of remote plugin nodes over NATS: `start()` connects, nodes that announce themselves
   * register their plugins under their node name, `stop()` leaves. See the README's "Plugin nodes across
   * processes and machines". Default none.
   */
  cluster?: ClusterOptions;
}

/** What `start()` may be given: plugin folders, for an instance made without them (the default one). */
export type StartOptions = Pick<ExtensionOptions, 'pluginDirs' | 'watch' | 'checkPermissions'>;

const START_KEYS = ['pluginDirs', 'watch', 'checkPermissions'] as const;
const EXTENSION_KEYS = ['node', 'scanLoaded', ...START_KEYS, 'stateFile', 'stateFlushMs', 'onCorruptState', 'cluster'] as const;

/** Throws a TypeError for options of `createExtension` (or of `start`, with `start` true) that are not an object or have an unknown key. */
export function checkExtensionOptions(options: unknown, start: boolean): void {
  checkOptions(start ? 'start options' : 'createExtension options', options, start ? START_KEYS : EXTENSION_KEYS);
}

export type { ModuleEvent } from './registry/module-installer.js';

/** The events an extension emits; there is deliberately no `error` event, which would crash an unheard host. */
export interface ExtensionEvents {
  load: [ModuleEvent];
  reload: [ModuleEvent];
  unload: [ModuleEvent];
  loadError: [LoadError];
  /** A worker node loaded its folder and answers calls. */
  nodeUp: [NodeEvent];
  /** A worker node went down (`status` says whether a restart is scheduled). */
  nodeDown: [NodeEvent];
}

/** A handle on one point: calls through it do no lookup at all. */
export interface PointHandle {
  readonly module: string;
  readonly point: string;
  /** As `callPlugins(module, point, args, opts)`. */
  call(args?: unknown, opts?: CallOptions): Promise<PluginResult[]>;
  /** As `callPluginsSync(module, point, args)`. */
  callSync(args?: unknown): PluginResult[];
  /** As `notify(module, point, args)`. */
  notify(args?: unknown): void;
  /** As `pipe(module, point, state, opts)`. */
  pipe(state: unknown, opts?: PipeOptions): Promise<unknown>;
}

/** The plugin folders an extension's options ask for, or null; throws a TypeError naming a bad option. */
export function folderOptions(
  options: ExtensionOptions,
  host: ModuleHost,
  originOf: (name: string) => ModuleOrigin | undefined,
): PluginFolders | null {
  const { pluginDirs, watch, checkPermissions } = options;
  if (pluginDirs !== undefined) {
    if (!Array.isArray(pluginDirs) || pluginDirs.some((d) => (typeof d !== 'string' || d.length === 0) && !isNodeDir(d))) {
      throw new TypeError(
        `extpoint: option pluginDirs must be an array of folder paths (or { path, node, isolation: 'worker' } objects), not ${describe(pluginDirs)}`,
      );
    }
  }
  for (const [key, value] of [['watch', watch], ['checkPermissions', checkPermissions]] as const) {
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TypeError(`extpoint: option ${key} must be true or false, not ${describe(value)}`);
    }
  }
  const dirs = pluginDirs?.filter((d): d is string => typeof d === 'string') ?? [];
  if (dirs.length === 0) return null;
  const guard = (options as { [LOAD_GUARD]?: LoadGuard })[LOAD_GUARD];
  // Installed packages (extpoint/install) are checked against their folder's manifest before they load.
  const checked = installedGuard(dirs, guard);
  // The host's operations are bound one by one: a host may be a class instance, whose methods a spread would drop.
  const folderHost = {
    read: (name: string, exports: object) => host.read(name, exports),
    install: (...args: Parameters<ModuleHost['install']>) => host.install(...args),
    uninstall: (name: string) => host.uninstall(name),
    loadError: (error: Parameters<ModuleHost['loadError']>[0]) => host.loadError(error),
    originOf,
  };
  return new PluginFolders(folderHost, { dirs, watch: watch ?? true, checkPermissions: checkPermissions ?? true, guard: checked });
}

/** The worker nodes the `pluginDirs` entries ask for (checked; call after `folderOptions`). */
export function workerNodeOptions(options: ExtensionOptions, localNode: string): WorkerNodeSettings[] {
  return (options.pluginDirs ?? [])
    .filter(isNodeDir)
    .map((d) => nodeSettings(d, localNode, options.watch ?? true, options.checkPermissions ?? true));
}

/** The state store an extension's options ask for, with its flush period, or null; throws a TypeError naming a bad option. */
export function stateOptions(
  options: ExtensionOptions,
  movedAside: (message: string) => void,
): { store: FileStore; flushMs: number } | null {
  const { stateFile, stateFlushMs, onCorruptState } = options;
  if (stateFile !== undefined && (typeof stateFile !== 'string' || stateFile.length === 0)) {
    throw new TypeError(`extpoint: option stateFile must be a file path such as './extpoint-state.json', not ${describe(stateFile)}`);
  }
  if (stateFlushMs !== undefined && !(typeof stateFlushMs === 'number' && stateFlushMs >= 10 && stateFlushMs <= 2_147_483_647)) {
    throw new TypeError(`extpoint: option stateFlushMs must be a number of milliseconds from 10 to 2147483647, not ${describe(stateFlushMs)}`);
  }
  if (onCorruptState !== undefined && onCorruptState !== 'reject' && onCorruptState !== 'backup') {
    throw new TypeError(`extpoint: option onCorruptState must be 'reject' or 'backup', not ${describe(onCorruptState)}`);
  }
  if (stateFile === undefined) {
    if (stateFlushMs !== undefined || onCorruptState !== undefined) {
      throw new TypeError('extpoint: options stateFlushMs and onCorruptState need a stateFile; add stateFile, or remove them');
    }
    return null;
  }
  const store = new FileStore(stateFile, {
    checkPermissions: options.checkPermissions ?? true,
    onCorrupt: onCorruptState ?? 'reject',
    movedAside,
  });
  return { store, flushMs: stateFlushMs ?? 1000 };
}
