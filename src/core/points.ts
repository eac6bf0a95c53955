/**
 * Typed points: `definePoint<Args, Result, State>(module, point)` names a point once, with the types its
 * calls take and give. The descriptor is plain data at run time (`{ module, point }`, frozen); the types
 * ride on it for the compiler alone, so that `ext.point(descriptor)`, `callPlugins(descriptor, args)` and
 * `definePlugin(descriptor, fn)` are checked against one declaration.
 */
import type { Halt } from './halt.js';
import { assertCallNames } from './naming.js';
import type { CallOptions, PipeOptions, PluginContext, PluginResult } from './types.js';

/** The key of a descriptor's compile-time types; never present at run time. */
declare const TYPES: unique symbol;

/**
 * A declared point: its module and name, and, for the compiler, what its plugins take (`Args`), what they
 * give (`Result`) and the state a `pipe` threads through them (`State`, by default `Args`).
 */
export interface Point<Args = unknown, Result = unknown, State = Args> {
  readonly module: string;
  readonly point: string;
  /**
   * Compile-time only (absent at run time). Functions in both directions make each type exact: a point
   * of `Order` is neither a point of `unknown` nor one of a subtype of `Order`.
   */
  readonly [TYPES]?: {
    args: (args: Args) => Args;
    result: (result: Result) => Result;
    state: (state: State) => State;
  };
}

/** What a value may be, or a promise of it. */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * True when the point's plugins can be chained by `pipe`: each plugin's result (`Result`) is a state, and
 * each state is an argument the plugins take (`State` is assignable to `Args`).
 */
export type IsPipePoint<Args, Result, State> = [Result] extends [State] ? ([State] extends [Args] ? true : false) : false;

/**
 * What a plugin of the point returns, awaited: its `Result`, or, on a point that can be piped, `halt(state)`.
 * This is also the `data` of an `ok` result of a call of the point.
 */
export type PluginReturn<Args, Result, State> = IsPipePoint<Args, Result, State> extends true ? Result | Halt<State> : Result;

/**
 * The function a plugin of `Point<Args, Result, State>` must be. On a point whose `Result` is `void` (an
 * event point, called with `notify`) what a plugin returns is not used, so any return is accepted, as
 * TypeScript does for callbacks. Its optional second parameter is the call's `{ signal }`, passed only by
 * calls given a `signal`.
 */
export type PluginFor<Args, Result, State = Args> = [void] extends [Result]
  ? [Result] extends [void]
    ? (args: Args, context?: PluginContext) => void
    : (args: Args, context?: PluginContext) => Awaitable<PluginReturn<Args, Result, State>>
  : (args: Args, context?: PluginContext) => Awaitable<PluginReturn<Args, Result, State>>;

/** The parameters of a call: the argument may be left out when the point's `Args` allow `undefined`. */
export type CallParams<Args> = undefined extends Args ? [args?: Args, opts?: CallOptions] : [args: Args, opts?: CallOptions];
/** The parameters of a synchronous call or a `notify`. */
export type SyncParams<Args> = undefined extends Args ? [args?: Args] : [args: Args];

/** `pipe`'s options on a typed point: `private` holds the keys merged into the chain's object result. */
export interface TypedPipeOptions<Private extends object> extends Omit<PipeOptions, 'private'> {
  private?: Private;
}

/**
 * What a typed `pipe` resolves to. The chain's state; with `private`, maybe that state with the private keys
 * merged over it: they are merged only into an object result that is not an array, and the input comes back
 * unmerged when the point has no plugins or a plugin fails, so both shapes are possible.
 */
export type PipeResult<State, Private> = [keyof Private] extends [never]
  ? State
  : State | (Omit<State, keyof Private> & Private);

/** Why a handle's `pipe` cannot be called: shown by the compiler as the parameter's type. */
export type NotAPipePoint = 'extpoint: this point cannot be piped: its Result must be a State, and a State an Args';

/** A handle on a typed point: its calls do no lookup, and are checked against the point's types. */
export interface TypedPointHandle<Args, Result, State = Args> {
  readonly module: string;
  readonly point: string;
  /** As `callPlugins(point, args, opts)`. */
  call(...params: CallParams<Args>): Promise<PluginResult<PluginReturn<Args, Result, State>>[]>;
  /** As `callPluginsSync(point, args)`. */
  callSync(...params: SyncParams<Args>): PluginResult<PluginReturn<Args, Result, State>>[];
  /** As `notify(point, args)`. */
  notify(...params: SyncParams<Args>): void;
  /** As `pipe(point, state, opts)`; on a point that cannot be piped, its `state` parameter is an error. */
  pipe<Private extends object = {}>(
    state: IsPipePoint<Args, Result, State> extends true ? State : NotAPipePoint,
    opts?: TypedPipeOptions<Private>,
  ): Promise<PipeResult<State, Private>>;
}

/**
 * Points declared by name, for the name-based calls: a program adds its points to this interface, keyed
 * `'module/point'`, and `callPlugins('billing', 'checkout', order)` is then checked and typed as
 * `callPlugins(checkout, order)` is. Names not in it are called untyped, as always.
 *
 * @example
 * declare module 'extpoint' {
 *   interface DeclaredPoints { 'billing/checkout': typeof checkout }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DeclaredPoints {}

/** The point declared as `module/point` in `DeclaredPoints`, or `undefined` when there is none. */
export type DeclaredPoint<M extends string, P extends string> = `${M}/${P}` extends keyof DeclaredPoints
  ? DeclaredPoints[`${M}/${P}`]
  : undefined;

/** The parameters after the names of `callPlugins(module, point, ...)`: typed when the point is declared. */
export type NamedCallParams<M extends string, P extends string> =
  DeclaredPoint<M, P> extends Point<infer A, any, any> ? CallParams<A> : [args?: unknown, opts?: CallOptions];
/** The parameters after the names of `callPluginsSync` and `notify`: typed when the point is declared. */
export type NamedSyncParams<M extends string, P extends string> =
  DeclaredPoint<M, P> extends Point<infer A, any, any> ? SyncParams<A> : [args?: unknown];
/** What a name-based call's results carry: the declared point's, or `T` (by default `unknown`). */
export type NamedReturn<M extends string, P extends string, T> =
  DeclaredPoint<M, P> extends Point<infer A, infer R, infer S> ? PluginReturn<A, R, S> : T;
/** The `state` of a name-based `pipe`: the declared point's State, or anything (`T`). */
export type NamedState<M extends string, P extends string, T> =
  DeclaredPoint<M, P> extends Point<infer A, infer R, infer S> ? (IsPipePoint<A, R, S> extends true ? S : NotAPipePoint) : T;
/** What a name-based `pipe` resolves to: as a typed `pipe` for a declared point, or `T`. */
export type NamedPipeResult<M extends string, P extends string, T, Private> =
  DeclaredPoint<M, P> extends Point<any, any, infer S> ? PipeResult<S, Private> : T;

/**
 * Declares a point of `module`: the descriptor names it for `ext.point`, the calls and `definePlugin`, and
 * carries its types. `State` is the state `pipe` threads through the plugins (by default `Args`).
 *
 * @example
 * const checkout = definePoint<Order, Receipt>('billing', 'checkout');
 * const receipts = await extension.point(checkout).call(order); // PluginResult<Receipt>[]
 *
 * @throws TypeError when `module` or `point` breaks the naming rules; the message says which rule.
 */
export function definePoint<Args = unknown, Result = unknown, State = Args>(
  module: string,
  point: string,
): Point<Args, Result, State> {
  assertCallNames(module, point);
  return Object.freeze({ module, point });
}

/** True when `value` is a point descriptor (an object with `module` and `point`), not a module name or a function. */
export function isPoint(value: unknown): value is Point<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && 'module' in value && 'point' in value;
}
