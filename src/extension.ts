/**
 * An extension instance: the registry, the framework's own history, discovery of loaded modules, and the
 * public calls. The process-wide default instance and those made by `createExtension` are the same class.
 */
import { ExtensionCalls } from './extension-calls.js';
import { ModuleInstaller } from './registry/module-installer.js';
import { Registry } from './registry/registry.js';
import type { LoadError } from './core/history.js';
import { FrameworkStatus } from './core/status.js';
import { isExportsLike } from './core/declarations.js';
import { describe, isModuleName } from './core/naming.js';
import { buildReport, type Report } from './operator/report.js';
import type { ReportOptions } from './operator/report-filter.js';
import { checkHealth, type HealthOptions, type HealthReport } from './calls/health.js';
import type { FlagOutcome } from './core/types.js';
import { ClusterLink } from './extension-cluster.js';
import type { FlagRef } from './state/flag-keys.js';
import { serveRepl, type ReplService } from './operator/repl-server.js';
import { servePanel, type PanelService } from './panel/server.js';
import type { PanelOptions } from './panel/options.js';
import type { PluginFolders } from './modules/folder.js';
import { LoadedModules } from './modules/loaded-modules.js';
import { warnIfEsmUnscanned } from './modules/esm-recorder.js';
import { OperatorState, type RestoredStatus } from './state/operator-state.js';
import { toJson } from './operator/report-json.js';
import type { Nodes } from './nodes/nodes.js';
import { nodeRows, wireNodes } from './nodes/wiring.js';
import { clusterSettings, type ClusterSettings } from './cluster/settings.js';
import {
  workerNodeOptions,
  folderOptions,
  checkExtensionOptions,
  stateOptions,
  type ExtensionOptions,
  type StartOptions,
} from './extension-options.js';

export type { ExtensionEvents, ExtensionOptions, ModuleEvent, PointHandle, StartOptions } from './extension-options.js';

/** Convention-based extension points and their plugins. See the README for the whole story. */
export class Extension extends ExtensionCalls {
  /** This instance's node name. */
  readonly node: string;
  private readonly scanLoaded: boolean;
  private started = false;
  /** Starts, terminate reasons and load errors: the origin's status table. */
  private readonly status = new FrameworkStatus();
  private readonly loaded: LoadedModules;
  private readonly replServices = new Set<ReplService>();
  private readonly panels = new Set<PanelService>();
  private folders: PluginFolders | null;
  /** Worker nodes asked for by `pluginDirs` entries; null when none (nothing changes for such hosts). */
  private nodes: Nodes | null = null;
  /** The `cluster` option, checked; null without one. */
  private readonly cluster: ClusterSettings | null;
  /** Durable operator state, when `stateFile` is given; `stateOpen` once loaded by `start()`. */
  private readonly state: OperatorState | null;
  private stateOpen = false;
  /** The cluster's replicated flags (their own connection); null without the `cluster` option. */
  private readonly clusterFlags: ClusterLink | null;

  /** What a module's arrival and departure do; the plugin folders and worker nodes use it too. */
  private readonly installer: ModuleInstaller;

  constructor(options: ExtensionOptions = {}) {
    checkExtensionOptions(options, false);
    const node = options.node ?? 'local';
    if (typeof node !== 'string' || node.length === 0) {
      throw new TypeError(`extpoint: option node must be a non-empty string, not ${describe(node)}`);
    }
    super(new Registry(node));
    this.node = node;
    this.scanLoaded = options.scanLoaded ?? true;
    this.installer = new ModuleInstaller(this.registry, {
      changed: (kind, event) => this.emit(kind, event),
      loadError: (error) => this.recordLoadError(error),
    });
    this.folders = folderOptions(options, this.installer, (name) => this.registry.modules.get(name)?.origin);
    this.cluster = options.cluster === undefined ? null : clusterSettings(options.cluster);
    this.nodes = this.makeNodes(options);
    this.loaded = new LoadedModules({
      record: (name) => this.registry.modules.get(name),
      loadedRecords: () => [...this.registry.modules.values()].filter((r) => r.origin === 'loaded'),
      adopt: (name, exports, file) => this.installer.adopt(name, exports, 'loaded', file),
      uninstall: (name) => this.installer.uninstall(name),
      loadError: (error) => this.recordLoadError(error),
      started: () => this.started,
    });
    const state = stateOptions(options, (message) => this.recordLoadError({ file: state?.store.where, message }));
    const status = () => ({
      ...this.status.record(),
      nodeRestarts: Object.fromEntries((this.nodes?.rows(() => 0) ?? []).map((row) => [row.node, row.restarts])),
    });
    this.state = state === null ? null : new OperatorState(state.store, this.registry, node, state.flushMs, status, toJson);
    // Cluster-wide flags: the bucket's problems become load errors, and flags it applies reach the state file.
    this.clusterFlags =
      this.cluster === null
        ? null
        : new ClusterLink(this.cluster, this.registry, node, {
            problem: (message) => this.recordLoadError({ file: `nats-kv:${this.clusterFlags?.flags.bucket ?? ''}`, message }),
            applied: () => this.state?.flagsChanged(),
          });
  }

  // -------------------------------------------------------------------------------------------------
  // Life cycle

  /**
   * Starts the framework: counts the start, walks loaded modules, scans and watches plugin folders. Does
   * nothing when already started. `options` give plugin folders to an instance made without them, such
   * as the default `extension`: `await extension.start({ pluginDirs: ['./plugins'] })`.
   *
   * @throws TypeError (as a rejection) for bad options, or folders given to an instance that has some.
   */
  async start(options?: StartOptions): Promise<void> {
    if (options !== undefined) {
      checkExtensionOptions(options, true);
      if (this.folders !== null || (this.nodes?.workers ?? 0) > 0) {
        throw new TypeError(
          'extpoint: start(options) gives plugin folders, but this instance already has them; ' +
            'give pluginDirs either to createExtension or to start, once',
        );
      }
      this.folders = folderOptions(options, this.installer, (name) => this.registry.modules.get(name)?.origin);
      if (this.nodes === null) this.nodes = this.makeNodes(options);
      else this.nodes.addWorkers(workerNodeOptions(options, this.node));
    }
    if (this.started) return;
    if (this.state !== null && !this.stateOpen) {
      this.adoptStatus(await this.state.load());
      this.stateOpen = true;
    }
    // After the state file, so that the cluster's flags win over the file's.
    if (this.clusterFlags !== null) {
      try {
        await this.clusterFlags.start();
      } catch (e) {
        if (this.stateOpen) {
          this.stateOpen = false;
          this.state?.close();
        }
        throw e;
      }
    }
    this.started = true;
    this.status.started();
    if (this.scanLoaded) await this.loaded.scan();
    // Without extpoint/register no ES module is seen: say so once, unless plugin folders are the way in.
    if (this.scanLoaded && this.folders === null) warnIfEsmUnscanned();
    await this.folders?.start();
    try {
      await this.nodes?.start();
    } catch (err) {
      // The cluster could not be joined: a later start() tries again rather than doing nothing.
      this.started = false;
      throw err;
    }
    if (this.state !== null) {
      this.state.flagsChanged();
      this.state.startFlushing();
    }
  }

  /**
   * Records `reason` as a terminate reason and starts again: rescans loaded modules and plugin folders,
   * keeping modules given to `registerModule` and every flag and counter.
   */
  async restart(reason: unknown = 'restart'): Promise<void> {
    this.status.terminated(reason);
    this.started = true;
    this.status.started();
    if (this.scanLoaded) await this.loaded.scan();
    await this.folders?.start();
    await this.nodes?.start();
  }

  /**
   * Starts worker node `name` again now and forgets its past restarts: the way back for a node its
   * supervisor gave up on. Resolves once the node has loaded its folder (or failed to).
   *
   * @throws TypeError (as a rejection) for a node this extension does not have.
   */
  restartNode(name: string): Promise<void> {
    if (this.nodes === null) return Promise.reject(new TypeError(`extpoint: restartNode(${describe(name)}): this extension has no worker nodes`));
    return this.nodes.restart(name);
  }

  /** The worker nodes of `options`, wired to the registry; null when it asks for none. */
  private makeNodes(options: ExtensionOptions): Nodes | null {
    return wireNodes(workerNodeOptions(options, this.node), {
      registry: this.registry,
      installer: this.installer,
      localNode: this.node,
      up: (event) => this.emit('nodeUp', event),
      down: (event) => this.emit('nodeDown', event),
    }, this.cluster);
  }

  /** The node a plugin module runs on: a worker node's when one registered it, else this extension's own. */
  private nodeOf(pluginModule: string): string {
    return this.registry.modules.get(pluginModule)?.node ?? this.node;
  }

  /**
   * Scans the plugin folders again now: new files load, changed ones reload, deleted ones unload. For
   * hosts that run with `watch: false`; does nothing without `pluginDirs`.
   */
  rescan(): Promise<void> {
    return this.folders?.rescan() ?? Promise.resolve();
  }

  /**
   * Records `reason` as a terminate reason and stops watching (plugin folders included, whose watcher
   * handles are closed). The registry stays: calls keep working.
   */
  async stop(reason: unknown = 'shutdown'): Promise<void> {
    this.status.terminated(reason);
    this.started = false;
    this.loaded.stop();
    await this.folders?.stop();
    await this.nodes?.stop();
    const services = [...this.replServices];
    this.replServices.clear();
    const panels = [...this.panels];
    this.panels.clear();
    await Promise.all([...services, ...panels].map((service) => service.close()));
    await this.clusterFlags?.stop();
    if (this.stateOpen) {
      this.stateOpen = false;
      this.state?.close();
    }
  }

  /**
   * Writes a flag change through to the state file, if there is one, before the flag call returns; with a
   * cluster, marks it to be written to the cluster's bucket (see `flagsSettled`).
   */
  private flagged(outcome: FlagOutcome, ref: FlagRef): FlagOutcome {
    this.state?.flagsChanged();
    this.clusterFlags?.changed(ref);
    return outcome;
  }

  /**
   * Resolves once every flag change made so far on this host is in the cluster's key-value bucket, so
   * other hosts see it. At once without the `cluster` option or before `start()`. Never rejects: while the
   * NATS server is away it waits for its return (race it with a timer to bound the wait).
   */
  flagsSettled(): Promise<void> {
    return this.clusterFlags?.flags.settled() ?? Promise.resolve();
  }

  /** Takes over the history a state file kept; a previous process that never stopped cleanly is recorded. */
  private adoptStatus(saved: RestoredStatus | null): void {
    if (saved === null) return;
    this.status.adopt(saved);
    this.nodes?.adoptRestarts(saved.nodeRestarts);
    if (!saved.cleanStop) {
      this.status.terminated(`no clean stop recorded: process ${saved.pid} ended without stop() (killed or crashed)`);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Modules

  /**
   * Registers a loaded module (a host or a plugin module): its `_Extension` exports become points, its
   * `_Plugin` exports plugins. Registering a name again replaces its previous exports atomically. Bad
   * individual exports are recorded as load errors and skipped.
   *
   * @throws TypeError when `name` is not a module name or `exports` is not an object or function.
   */
  registerModule(name: string, exports: object): void {
    if (!isModuleName(name)) {
      throw new TypeError(
        `extpoint: registerModule needs a module name of 1 to 255 letters, digits, _ - . or $, not ${describe(name)}`,
      );
    }
    if (!isExportsLike(exports)) {
      throw new TypeError(`extpoint: registerModule("${name}", exports) needs an object of exports, not ${describe(exports)}`);
    }
    this.installer.adopt(name, exports, 'registered');
  }

  /** Removes a module's points and plugins. Returns false when no module of that name is registered. */
  unregisterModule(name: string): boolean {
    return this.installer.uninstall(name);
  }

  private recordLoadError(error: Omit<LoadError, 'at'>): void {
    this.emit('loadError', this.status.loadError(error));
  }

  // -------------------------------------------------------------------------------------------------
  // Flags, profile, health, report

  /**
   * Lets `pluginModule`'s plugin on `module`'s `point` run again. Returns `'applied'`, or `'pending'` when no
   * such plugin is registered now: the flag is kept and applies when it registers (`report()` lists it).
   *
   * @throws TypeError when a name breaks the naming rules; the message says which rule.
   */
  enablePlugin(pluginModule: string, module: string, point: string): FlagOutcome {
    return this.pluginFlag(pluginModule, module, point, true);
  }

  /** Skips `pluginModule`'s plugin on `module`'s `point`: calls give it no result entry. Returns as `enablePlugin`. */
  disablePlugin(pluginModule: string, module: string, point: string): FlagOutcome {
    return this.pluginFlag(pluginModule, module, point, false);
  }

  private pluginFlag(pluginModule: string, module: string, point: string, enabled: boolean): FlagOutcome {
    const node = this.nodeOf(pluginModule);
    const outcome = this.registry.setPluginEnabled(pluginModule, module, point, enabled, node);
    return this.flagged(outcome, { kind: 'plugin', module, point, pluginModule, node });
  }

  /**
   * Lets a point run again; plugins disabled one by one stay disabled. Returns `'applied'`, or `'pending'`
   * when no module declares the point and no plugin serves it now (the flag is kept for it).
   *
   * @throws TypeError when a name breaks the naming rules; the message says which rule.
   */
  enablePoint(module: string, point: string): FlagOutcome {
    return this.flagged(this.registry.setPointEnabled(module, point, true), { kind: 'point', module, point });
  }

  /** Makes every call of the point return `[]` (or its input, for `pipe`) without calling anything. Returns as `enablePoint`. */
  disablePoint(module: string, point: string): FlagOutcome {
    return this.flagged(this.registry.setPointEnabled(module, point, false), { kind: 'point', module, point });
  }

  /** Switches per-plugin timing of a point on or off; the report shows count, total, max and last. */
  profile(module: string, point: string, on = true): void {
    this.registry.setProfiling(module, point, on);
  }

  /**
   * Runs the health probes of the plugin modules that run on a point (or every point), concurrently and
   * with a timeout. Disabled and held plugins are listed apart and not counted. Health reports; it never
   * stops calls.
   *
   * @throws Error (as a rejection, `code: 'EUNKNOWN'`) for a module or point extpoint does not know.
   */
  health(module?: string, point?: string, opts?: HealthOptions): Promise<HealthReport> {
    try {
      return checkHealth(this.registry, module, point, opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Serves operator REPL sessions on a Unix domain socket (mode 0600): `extpoint attach socketPath`
   * opens one with this extension and its calls in scope. Whoever can open the socket runs code in this
   * process. `stop()` ends the sessions and removes the socket; so does the returned service's `close()`.
   *
   * @throws Error (rejects) when the path exists and is not a stale socket of this user.
   */
  async serveRepl(socketPath: string): Promise<ReplService> {
    const service = await serveRepl(this, socketPath);
    this.replServices.add(service);
    const close = service.close.bind(service);
    return {
      path: service.path,
      get sessions() {
        return service.sessions;
      },
      close: () => {
        this.replServices.delete(service);
        return close();
      },
    };
  }

  /**
   * Serves the web panel over HTTP: the report live in a browser, with buttons to enable or disable
   * plugins and points and to run a point's health probes (each recorded in `report().status.operatorActions`).
   * Listens on `127.0.0.1` and a free port by default; open the returned `url`, which carries the token.
   * `stop()` closes it; so does the returned `close()`. See the README's "The web panel".
   *
   * @throws TypeError (rejects) for an unknown option (naming the one meant), a bad value, or a
   *   non-loopback `host` without an explicit `token`.
   */
  async servePanel(options?: PanelOptions): Promise<PanelService> {
    const service = await servePanel(this, options, (action) => this.status.operatorAction(action));
    this.panels.add(service);
    return {
      url: service.url,
      token: service.token,
      close: () => {
        this.panels.delete(service);
        return service.close();
      },
    };
  }

  /**
   * The framework's status, plugins and points, as data that prints as tables in the REPL (a summary when
   * longer than a screen) and as JSON-safe data through `JSON.stringify`. Filters narrow it:
   * `report({ failing: true })`, `report({ point: 'billing/checkout' })`, `report({ module: 'billing' })`,
   * `report({ node: 'local' })`; `report({ all: true })` prints every row.
   *
   * @throws TypeError for an unknown filter (naming the one meant) or a filter of the wrong shape.
   */
  report(options?: ReportOptions): Report {
    const { startCount, startTime, terminateReasons, loadErrors } = this.status.record();
    return buildReport(
      this.registry,
      { startCount, startTime, terminateReasons, loadErrors, pendingFlags: this.registry.pendingFlags(), operatorActions: this.status.operatorActions() },
      options,
      () => nodeRows(this.registry, this.node, this.status.record().startTime, this.nodes),
    );
  }
}
