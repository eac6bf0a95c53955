/**
 * Case 3: an awaited call of one point with 10 async plugins, against the async floor (a `for` loop that
 * awaits each plugin, with try/catch, counters and results), tapable's AsyncSeriesHook and hookable; and
 * `callPlugins` when all 10 plugins are sync, against `callPluginsSync` of the same point.
 */
import tapable from 'tapable';
import { createHooks } from 'hookable';
import { measure } from '../lib/measure.js';
import { ARGS, asyncPlugins, syncPlugins, extensionWith, countPluginCallsAsync } from '../lib/fixtures.js';
import { asyncFloor } from '../lib/floors.js';

const PLUGINS = 10;

export const id = '3';
export const title = 'Async dispatch, 10 plugins';
export const description = 'one awaited call of a point with 10 plugins (async ones unless said)';
export const unit = 'ns/call';

export const variants = [
  { key: 'callPlugins', label: 'extpoint callPlugins', ratioTo: 'floor' },
  { key: 'pointCall', label: 'extpoint point().call', ratioTo: 'floor' },
  { key: 'floor', label: 'async floor: for + await, results', ratioTo: 'floor' },
  { key: 'tapable', label: 'tapable AsyncSeriesHook.promise', ratioTo: 'floor' },
  { key: 'hookable', label: 'hookable callHook (async hooks)', ratioTo: 'floor' },
  { key: 'callPluginsAllSync', label: 'extpoint callPlugins, sync plugins', ratioTo: 'callPluginsSync' },
  { key: 'callPluginsSync', label: 'extpoint callPluginsSync, same', ratioTo: 'callPluginsSync' },
  { key: 'awaitedSync', label: 'await Promise.resolve(callPluginsSync)', ratioTo: 'callPluginsSync' },
];

export const goals = [
  { text: 'callPlugins within 1.2x of the async floor', variant: 'callPlugins', against: 'floor', op: '<=', limit: 1.2 },
  { text: 'callPlugins faster than tapable AsyncSeriesHook', variant: 'callPlugins', against: 'tapable', op: '<', limit: 1 },
  { text: 'callPlugins faster than hookable callHook', variant: 'callPlugins', against: 'hookable', op: '<', limit: 1 },
  {
    text: 'callPlugins with all-sync plugins within 2x of callPluginsSync',
    variant: 'callPluginsAllSync',
    against: 'callPluginsSync',
    op: '<=',
    limit: 2,
  },
];

function contestant(key) {
  const fns = asyncPlugins(PLUGINS);
  switch (key) {
    case 'callPlugins': {
      const ext = extensionWith(fns);
      return (args) => ext.callPlugins('host', 'p', args);
    }
    case 'pointCall': {
      const point = extensionWith(fns).point('host', 'p');
      return (args) => point.call(args);
    }
    case 'floor':
      return asyncFloor(fns).call;
    case 'tapable': {
      const hook = new tapable.AsyncSeriesHook(['a']);
      fns.forEach((fn, i) => hook.tapPromise(`plugin${i}`, fn));
      return (args) => hook.promise(args);
    }
    case 'hookable': {
      const hooks = createHooks();
      fns.forEach((fn) => hooks.hook('p', fn));
      return (args) => hooks.callHook('p', args);
    }
    case 'callPluginsAllSync': {
      const ext = extensionWith(syncPlugins(PLUGINS));
      return (args) => ext.callPlugins('host', 'p', args);
    }
    case 'callPluginsSync': {
      const ext = extensionWith(syncPlugins(PLUGINS));
      return (args) => ext.callPluginsSync('host', 'p', args);
    }
    case 'awaitedSync': {
      // The least an awaited API can cost over a sync one: one already-resolved promise, awaited.
      const ext = extensionWith(syncPlugins(PLUGINS));
      return (args) => Promise.resolve(ext.callPluginsSync('host', 'p', args));
    }
    default:
      throw new Error(`case 3 has no contestant ${key}`);
  }
}

export async function run(key, opts) {
  const call = contestant(key);
  const called = await countPluginCallsAsync(call);
  if (called !== PLUGINS) throw new Error(`${key} called ${called} plugins, not ${PLUGINS}`);
  // callPluginsSync is timed without await: the goal compares an awaited async call with a plain sync one.
  const m = await measure(() => call(ARGS), { ...opts, async: key !== 'callPluginsSync' });
  return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
}
