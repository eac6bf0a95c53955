/**
 * An extension instance: the registry, the framework's own history, discovery of loaded modules, and the
 * public calls. The process-wide default instance and those made by `createExtension` are the same class.
 */
import { EventEmitter } from 'node:events';
import type { ModuleHost } from './registry/module-host.js';
import { Registry, type ModuleOrigin } from './registry/registry.js';
import type { LoadError } from './core/history.js';
import { FrameworkStatus } from './core/status.js';
import { readExports, declaresAnything, isExportsLike, errorText, type Declarations } from './core/declarations.js';
import { describe, isModuleName } from './core/naming.js';
import { buildReport, type Report } from './operator/report.js';
import type { ReportOptions } from './operator/report-filter.js';
import { checkHealth, type HealthOptions, type HealthReport } from './calls/health.js';
import type { CallOptions, FlagOutcome, PipeOptions, PluginResult } from './core/types.js';
import { isPoint, type CallParams, type IsPipePoint, type NotAPipePoint, type PipeResult, type PluginReturn } from './core/points.js';
import type { Point, SyncParams, TypedPipeOptions, TypedPointHandle } from './core/points.js';
import type { DeclaredPoint, NamedCallParams, NamedPipeResult, NamedReturn, NamedState, NamedSyncParams } from './core/points.js';
import { serveRepl, type ReplService } from './operator/repl-server.js';
import type { PluginFolders } from './modules/folder.js';
import { LoadedModules } from './modules/loaded-modules.js';
import { warnIfEsmUnscanned } from './modules/esm-recorder.js';
import { OperatorState, type RestoredStatus } from './state/operator-state.js';
import { toJson } from './operator/report-json.js';
import {
  folderOptions,
  checkExtensionOptions,
  stateOptions,
  type ExtensionEvents,
  type ExtensionOptions,
  type ModuleEvent,
  type PointHandle,
  type StartOptions,
} from './extension-options.js';

export type { ExtensionEvents, ExtensionOptions, ModuleEvent, PointHandle, StartOptions } from './extension-options.js';

/** Convention-based extension points and their plugins. See the README for the whole story. */
export class Extension extends EventEmitter<ExtensionEvents> {
  /** This instance's node name. */
  readonly node: string;
  private readonly registry: Registry;
  private readonly scanLoaded: boolean;
  private started = false;
  /** Starts, terminate reasons and load errors: the origin's status table. */
  private readonly status = new FrameworkStatus();
  private readonly loaded: LoadedModules;
  private readonly replServices = new Set<ReplService>();
  private folders: PluginFolders | null;
  /** Durable operator state, when `stateFile` is given; `stateOpen` once loaded by `start()`. */
  private readonly state: OperatorState | null;
  private stateOpen = false;

  /** The registry operations that module loaders (the plugin folders) use. */
  private readonly host: ModuleHost;

  constructor(options: ExtensionOptions = {}) {
    super();
    checkExtensionOptions(options, false);
    const node = options.node ?? 'local';
    if (typeof node !== 'string' || node.length === 0) {
      throw new TypeError(`extpoint: option node must be a non-empty string, not ${describe(node)}`);
    }
    this.node = node;
    this.scanLoaded = options.scanLoaded ?? true;
    this.registry = new Registry(node);
    this.host = {
      read: (name, exports) => readExports(name, exports),
      install: (name, decls, origin, file) => this.install(name, decls, origin, file),
      uninstall: (name) => this.uninstall(name),
      loadError: (error) => this.recordLoadError(error),
    };
    this.folders = folderOptions(options, this.host, (name) => this.registry.modules.get(name)?.origin);
    this.loaded = new LoadedModules({
      record: (name) => this.registry.modules.get(name),
      loadedRecords: () => [...this.registry.modules.values()].filter((r) => r.origin === 'loaded'),
      adopt: (name, exports, file) => this.adopt(name, exports, 'loaded', file),
      uninstall: (name) => this.uninstall(name),
      loadError: (error) => this.recordLoadError(error),
      started: () => this.started,
    });
    const state = stateOptions(options, (message) => this.recordLoadError({ file: state?.store.where, message }));
    const status = () => ({ ...this.status.record(), nodeRestarts: {} });
    this.state = state === null ? null : new OperatorState(state.store, this.registry, node, state.flushMs, status, toJson);
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
      if (this.folders !== null) {
        throw new TypeError(
          'extpoint: start(options) gives plugin folders, but this instance already has them; ' +
            'give pluginDirs either to createExtension or to start, once',
        );
      }
      this.folders = folderOptions(options, this.host, (name) => this.registry.modules.get(name)?.origin);
    }
    if (this.started) return;
    if (this.state !== null && !this.stateOpen) {
      this.adoptStatus(await this.state.load());
      this.stateOpen = true;
    }
    this.started = true;
    this.status.started();
    if (this.scanLoaded) await this.loaded.scan();
    // Without extpoint/register no ES module is seen: say so once, unless plugin folders are the way in.
    if (this.scanLoaded && this.folders === null) warnIfEsmUnscanned();
    await this.folders?.start();
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
    const services = [...this.replServices];
    this.replServices.clear();
    await Promise.all(services.map((service) => service.close()));
    if (this.stateOpen) {
      this.stateOpen = false;
      this.state?.close();
    }
  }

  /** Writes a flag change through to the state file, if there is one, before the flag call returns. */
  private flagged(outcome: FlagOutcome): FlagOutcome {
    this.state?.flagsChanged();
    return outcome;
  }

  /** Takes over the history a state file kept; a previous process that never stopped cleanly is recorded. */
  private adoptStatus(saved: RestoredStatus | null): void {
    if (saved === null) return;
    this.status.adopt(saved);
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
    this.adopt(name, exports, 'registered');
  }

  /** Removes a module's points and plugins. Returns false when no module of that name is registered. */
  unregisterModule(name: string): boolean {
    return this.uninstall(name);
  }

  /** Reads and installs a module; records why when it cannot. */
  private adopt(name: string, exports: object, origin: ModuleOrigin, file?: string): 'helper' | 'installed' | 'failed' {
    let decls: Declarations;
    try {
      decls = readExports(name, exports);
    } catch (err) {
      this.recordLoadError({ module: name, file, message: `reading the exports of module "${name}" threw: ${errorText(err)}` });
      return 'failed';
    }
    if (origin !== 'registered' && !declaresAnything(decls)) return 'helper';
    return this.install(name, decls, origin, file) ? 'installed' : 'failed';
  }

  private install(name: string, decls: Declarations, origin: ModuleOrigin, file?: string): boolean {
    for (const problem of decls.problems) this.recordLoadError({ module: name, file, ...problem });
    const outcome = this.registry.apply(name, decls, origin, file);
    for (const problem of outcome.problems) this.recordLoadError({ module: name, file, ...problem });
    if (outcome.refused) return false;
    const event: ModuleEvent = file === undefined ? { module: name, origin } : { module: name, origin, file };
    this.emit(outcome.replaced ? 'reload' : 'load', event);
    return true;
  }

  private uninstall(name: string): boolean {
    const record = this.registry.modules.get(name);
    if (record === undefined || !this.registry.remove(name)) return false;
    const event: ModuleEvent =
      record.file === undefined ? { module: name, origin: record.origin } : { module: name, origin: record.origin, file: record.file };
    this.emit('unload', event);
    return true;
  }

  private recordLoadError(error: Omit<LoadError, 'at'>): void {
    this.emit('loadError', this.status.loadError(error));
  }

  // -------------------------------------------------------------------------------------------------
  // Calls

  /**
   * Calls every enabled plugin of `module`'s `point` with `args`, in order, in the caller's context.
   * A plugin that throws yields `EXIT` with what it threw; one that returns a promise yields `EXIT`
   * with an `EASYNC` error. A descriptor from `definePoint` may stand for the two names, and a point listed in
   * `DeclaredPoints` is typed by name too; the argument and the results are then checked against its types.
   *
   * @throws TypeError when `module` or `point` is not a valid name.
   */
  callPluginsSync<A, R, S>(point: Point<A, R, S>, ...params: SyncParams<A>): PluginResult<PluginReturn<A, R, S>>[];
  callPluginsSync<T = unknown, M extends string = string, P extends string = string>(module: M, point: P, ...params: NamedSyncParams<M, P>): PluginResult<NamedReturn<M, P, T>>[];
  callPluginsSync(module: string | Point<unknown>, point?: unknown, args?: unknown): PluginResult[] {
    if (typeof module !== 'string' && isPoint(module)) return this.registry.find(module.module, module.point).callSync(point);
    return this.registry.find(module, point as string).callSync(args);
  }

  /**
   * Calls every enabled plugin of the point and awaits each (one after another, or all at once with
   * `parallel`). A plugin that has not settled within `timeoutMs` yields `EXIT` with an `ETIMEOUT` error.
   * Rejects with a TypeError for a bad name or option.
   */
  callPlugins<A, R, S>(point: Point<A, R, S>, ...params: CallParams<A>): Promise<PluginResult<PluginReturn<A, R, S>>[]>;
  callPlugins<T = unknown, M extends string = string, P extends string = string>(module: M, point: P, ...params: NamedCallParams<M, P>): Promise<PluginResult<NamedReturn<M, P, T>>[]>;
  callPlugins(module: string | Point<unknown>, point?: unknown, args?: unknown, opts?: unknown): Promise<PluginResult[]> {
    try {
      if (typeof module !== 'string' && isPoint(module)) {
        return this.registry.find(module.module, module.point).call(point, args as CallOptions | undefined);
      }
      return this.registry.find(module, point as string).call(args, opts as CallOptions | undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs the point's plugins like `callPluginsSync` but returns nothing: for event-style points. Counters
   * and exit reasons stay exact.
   */
  notify<A, R, S>(point: Point<A, R, S>, ...params: SyncParams<A>): void;
  notify<M extends string, P extends string>(module: M, point: P, ...params: NamedSyncParams<M, P>): void;
  notify(module: string | Point<unknown>, point?: unknown, args?: unknown): void {
    if (typeof module !== 'string' && isPoint(module)) return this.registry.find(module.module, module.point).notify(point);
    this.registry.find(module, point as string).notify(args);
  }

  /**
   * Threads `state` through the point's plugins: each receives the current state and returns the next;
   * `halt(value)` stops the chain with `value`. If a plugin throws, rejects or times out, the original
   * input comes back. A disabled point or one without plugins returns the input.
   */
  pipe<A, R, S, Private extends object = {}>(
    point: Point<A, R, S>,
    state: IsPipePoint<A, R, S> extends true ? S : NotAPipePoint,
    opts?: TypedPipeOptions<Private>,
  ): Promise<PipeResult<S, Private>>;
  pipe<T = unknown, M extends string = string, P extends string = string, Private extends object = {}>(
    module: M,
    point: P,
    state: NamedState<M, P, T>,
    opts?: TypedPipeOptions<Private>,
  ): Promise<NamedPipeResult<M, P, T, Private>>;
  pipe(module: string | Point<unknown>, point: unknown, state?: unknown, opts?: unknown): Promise<unknown> {
    try {
      if (typeof module !== 'string' && isPoint(module)) {
        return this.registry.find(module.module, module.point).pipe(point, state as PipeOptions | undefined);
      }
      return this.registry.find(module, point as string).pipe(state, opts as PipeOptions | undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A handle on a point for hot paths: its calls do no lookup. Creating one does not add the point to the
   * report. Given a descriptor from `definePoint` (or the names of a point in `DeclaredPoints`), the
   * handle's calls are typed by it.
   */
  point<A, R, S>(point: Point<A, R, S>): TypedPointHandle<A, R, S>;
  point<M extends string, P extends string>(
    module: M,
    point: P,
  ): DeclaredPoint<M, P> extends Point<infer A, infer R, infer S> ? TypedPointHandle<A, R, S> : PointHandle;
  point(moduleOrPoint: string | Point<unknown>, name?: string): PointHandle {
    const [module, point] = isPoint(moduleOrPoint) ? [moduleOrPoint.module, moduleOrPoint.point] : [moduleOrPoint, name as string];
    const p = this.registry.pin(module, point);
    return Object.freeze({
      module,
      point,
      call: (args?: unknown, opts?: CallOptions) => {
        try {
          return p.call(args, opts);
        } catch (err) {
          return Promise.reject(err);
        }
      },
      callSync: (args?: unknown) => p.callSync(args),
      notify: (args?: unknown) => p.notify(args),
      pipe: (state: unknown, opts?: PipeOptions) => {
        try {
          return p.pipe(state, opts);
        } catch (err) {
          return Promise.reject(err);
        }
      },
    });
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
    return this.flagged(this.registry.setPluginEnabled(pluginModule, module, point, true));
  }

  /** Skips `pluginModule`'s plugin on `module`'s `point`: calls give it no result entry. Returns as `enablePlugin`. */
  disablePlugin(pluginModule: string, module: string, point: string): FlagOutcome {
    return this.flagged(this.registry.setPluginEnabled(pluginModule, module, point, false));
  }

  /**
   * Lets a point run again; plugins disabled one by one stay disabled. Returns `'applied'`, or `'pending'`
   * when no module declares the point and no plugin serves it now (the flag is kept for it).
   *
   * @throws TypeError when a name breaks the naming rules; the message says which rule.
   */
  enablePoint(module: string, point: string): FlagOutcome {
    return this.flagged(this.registry.setPointEnabled(module, point, true));
  }

  /** Makes every call of the point return `[]` (or its input, for `pipe`) without calling anything. Returns as `enablePoint`. */
  disablePoint(module: string, point: string): FlagOutcome {
    return this.flagged(this.registry.setPointEnabled(module, point, false));
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
      { startCount, startTime, terminateReasons, loadErrors, pendingFlags: this.registry.pendingFlags() },
      options,
    );
  }
}
