/**
 * The tracing versions of a point's callers, used only while extpoint's tracing channels have subscribers
 * (see trace/channels.ts): the dispatchers compile the plugins' own functions and return their callers
 * unwrapped otherwise, so an unobserved call runs exactly the code it ran before tracing existed.
 *
 * A traced call runs through the `extpoint:call` tracing channel's `traceSync` (callSync, notify) or
 * `tracePromise` (call, pipe), so stores bound to its `start` channel are entered for the whole call,
 * async continuations included. Each plugin function is wrapped to publish on `extpoint:plugin`.
 */
import { EASYNC, ExtpointError } from '../core/errors.js';
import type { CallOptions, PipeOptions, PluginResult } from '../core/types.js';
import { callChannel, pluginChannel, tracing } from '../trace/channels.js';
import type { CallKind, CallTrace, PluginTrace } from '../trace/payload.js';
import type { PluginFn, PluginSlot } from './slot.js';
import type { CallTarget } from './target.js';

/**
 * The functions a caller of `slots` calls: the plugins' own, or, while `extpoint:plugin` has subscribers,
 * wrappers that publish each run.
 */
export function pluginFns(p: CallTarget, slots: readonly PluginSlot[], kind: CallKind): PluginFn[] {
  if (!tracing.plugin) return slots.map((s) => s.impl as PluginFn);
  return slots.map((s) => tracePlugin(p, s, kind));
}

function tracePlugin(p: CallTarget, slot: PluginSlot, kind: CallKind): PluginFn {
  const fn = slot.impl as (args: unknown, more?: unknown) => unknown;
  const { start, end, asyncStart, asyncEnd, error } = pluginChannel;
  const { module, point } = p;
  const { fn: plugin, module: pluginModule, node } = slot.info;
  // a second argument (if a caller passes one) reaches the plugin only when given
  return function traced(args: unknown, more?: unknown): unknown {
    const ctx: PluginTrace = { kind, module, point, plugin, pluginModule, node, args };
    start.publish(ctx);
    let d: unknown;
    let thenable: boolean;
    try {
      d = arguments.length < 2 ? fn(args) : fn(args, more);
      // read inside the try, as the callers do: a hostile value fails the plugin
      thenable = d !== null && (typeof d === 'object' || typeof d === 'function') && typeof (d as PromiseLike<unknown>).then === 'function';
    } catch (e) {
      ctx.state = 'EXIT';
      ctx.error = e;
      error.publish(ctx);
      end.publish(ctx);
      throw e;
    }
    if (!thenable) {
      ctx.state = 'ok';
      ctx.result = d;
      end.publish(ctx);
      return d;
    }
    if (kind === 'callSync') {
      // the sync caller turns it into an EASYNC exit and silences it
      ctx.state = 'EXIT';
      ctx.error = new ExtpointError(EASYNC, `plugin ${pluginModule}.${plugin} returned a promise to a synchronous call`);
      error.publish(ctx);
      end.publish(ctx);
      return d;
    }
    end.publish(ctx);
    return Promise.resolve(d as PromiseLike<unknown>).then(
      (value) => {
        ctx.state = 'ok';
        ctx.result = value;
        asyncStart.publish(ctx);
        asyncEnd.publish(ctx);
        return value;
      },
      (reason: unknown) => {
        ctx.state = 'EXIT';
        ctx.error = reason;
        error.publish(ctx);
        asyncStart.publish(ctx);
        asyncEnd.publish(ctx);
        throw reason;
      },
    );
  };
}

type SyncFn = (args: unknown) => PluginResult[];
type NotifyFn = (args: unknown) => void;
type CallFn = (args: unknown, opts?: CallOptions) => Promise<PluginResult[]>;
type PipeFn = (state: unknown, opts?: PipeOptions) => Promise<unknown>;

function message(p: CallTarget, kind: CallKind, args: unknown): CallTrace {
  return { kind, module: p.module, point: p.point, node: p.node, args };
}

/** `caller`, or while `extpoint:call` has subscribers, `caller` traced with `traceSync`. */
export function tracedSync<F extends SyncFn | NotifyFn>(p: CallTarget, kind: 'callSync' | 'notify', caller: F): F {
  if (!tracing.call) return caller;
  return ((args: unknown) => callChannel.traceSync(caller as SyncFn, message(p, kind, args), undefined, args)) as F;
}

/** `caller`, or while `extpoint:call` has subscribers, `caller` traced with `tracePromise`. */
export function tracedAsync<F extends CallFn | PipeFn>(p: CallTarget, kind: 'call' | 'pipe', caller: F): F {
  if (!tracing.call) return caller;
  return ((args: unknown, opts?: CallOptions & PipeOptions) =>
    callChannel.tracePromise(caller as CallFn, message(p, kind, args), undefined, args, opts)) as F;
}
