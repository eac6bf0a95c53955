/**
 * extpoint's tracing channels, `extpoint:call` and `extpoint:plugin` (node:diagnostics_channel tracing
 * channels, as undici and fastify publish theirs), and whether anyone listens to them.
 *
 * Zero cost when nobody listens: the compiled callers of a point are built with tracing only while a
 * channel has subscribers, and rebuilt when that changes. diagnostics_channel has no subscription event
 * (Node 20's `Channel.prototype.subscribe` only swaps the channel's prototype to an active one), so this
 * module gives each of its ten channel objects (`tracing:extpoint:call:start` ... `:error`) own
 * `subscribe`, `unsubscribe`, `bindStore` and `unbindStore` methods that call Node's and then look again.
 * `diagnostics_channel.subscribe(name, fn)`, `channel(name).subscribe(fn)` and
 * `tracingChannel(name).subscribe(handlers)` all reach those methods, because Node hands out one channel
 * object per name and this module holds ours for good. Nothing global is patched. A subscription made by
 * some other path (a future Node that bypasses the method) is seen at the next `refreshTracing()`.
 */
import dc from 'node:diagnostics_channel';
import type { CallTrace, PluginTrace } from './payload.js';

/** The name of the tracing channel of calls. */
export const CALL_CHANNEL = 'extpoint:call';
/** The name of the tracing channel of plugin runs. */
export const PLUGIN_CHANNEL = 'extpoint:plugin';

export const callChannel = dc.tracingChannel<unknown, CallTrace>(CALL_CHANNEL);
export const pluginChannel = dc.tracingChannel<unknown, PluginTrace>(PLUGIN_CHANNEL);

/** Which channels have subscribers, as last seen; the callers are compiled from this. */
export const tracing = { call: callChannel.hasSubscribers, plugin: pluginChannel.hasSubscribers };

type Watcher = { readonly owner: WeakRef<object>; readonly onChange: (owner: object) => void };
const watchers = new Set<Watcher>();
const gone = new FinalizationRegistry<Watcher>((w) => watchers.delete(w));

/**
 * Calls `onChange(owner)` whenever `tracing` changes, for as long as `owner` lives (it is held weakly:
 * `onChange` must not capture it). Returns a function that stops the calls.
 */
export function watchTracing<T extends object>(owner: T, onChange: (owner: T) => void): () => void {
  const w: Watcher = { owner: new WeakRef(owner), onChange: onChange as (owner: object) => void };
  watchers.add(w);
  gone.register(owner, w, w);
  return () => {
    watchers.delete(w);
    gone.unregister(w);
  };
}

/**
 * Looks at the channels again and, if which of them have subscribers changed, tells every watcher (the
 * registries, which drop their points' compiled callers). Called on every (un)subscription through Node's
 * API; call it yourself only after subscribing by some other path.
 */
export function refreshTracing(): void {
  const call = callChannel.hasSubscribers;
  const plugin = pluginChannel.hasSubscribers;
  if (call === tracing.call && plugin === tracing.plugin) return;
  tracing.call = call;
  tracing.plugin = plugin;
  for (const w of [...watchers]) {
    const owner = w.owner.deref();
    if (owner === undefined) watchers.delete(w);
    else w.onChange(owner);
  }
}

const METHODS = ['subscribe', 'unsubscribe', 'bindStore', 'unbindStore'] as const;

/**
 * Gives a channel object own methods that run Node's (found on its prototype at the time of the call:
 * the inactive one re-enters through this method after making the channel active) and then look again.
 * Another copy of extpoint loaded in the process has done the same to the same objects: its methods are
 * called in place of Node's, so every copy hears of every change.
 */
function notifyOnChange(channel: object): void {
  for (const name of METHODS) {
    const previous = Object.getOwnPropertyDescriptor(channel, name)?.value as ((...a: unknown[]) => unknown) | undefined;
    Object.defineProperty(channel, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function (this: object, ...args: unknown[]): unknown {
        const method = previous ?? (Object.getPrototypeOf(this) as Record<string, (...a: unknown[]) => unknown>)[name]!;
        try {
          return method.apply(this, args);
        } finally {
          refreshTracing();
        }
      },
    });
  }
}

for (const t of [callChannel, pluginChannel]) {
  for (const channel of [t.start, t.end, t.asyncStart, t.asyncEnd, t.error]) notifyOnChange(channel);
}
