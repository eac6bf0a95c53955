/**
 * The calls of an extension: by module and point name, by a point descriptor, or through a point handle
 * that does no lookup at all. Every kind (sync, async, notify, pipe) goes to the point's compiled caller;
 * `Extension` adds the life cycle, modules, flags and the operator's tools on top.
 */
import { EventEmitter } from 'node:events';
import type { Registry } from './registry/registry.js';
import type { CallOptions, PipeOptions, PluginResult } from './core/types.js';
import { isPoint, type CallParams, type IsPipePoint, type NotAPipePoint, type PipeResult, type PluginReturn } from './core/points.js';
import type { Point, SyncParams, TypedPipeOptions, TypedPointHandle } from './core/points.js';
import type { DeclaredPoint, NamedCallParams, NamedPipeResult, NamedReturn, NamedState, NamedSyncParams } from './core/points.js';
import type { ExtensionEvents, PointHandle } from './extension-options.js';

export class ExtensionCalls extends EventEmitter<ExtensionEvents> {
  /** The one source of truth: modules, points, plugins, flags and counters. */
  protected readonly registry: Registry;

  protected constructor(registry: Registry) {
    super();
    this.registry = registry;
  }

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
}
