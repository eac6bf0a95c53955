/**
 * Case 1: a sync call of one point with 10 plugins, full results, against the generated-code floor and
 * the libraries a user would pick instead. tapable, EventEmitter, eventemitter3 and hookable return no
 * per-plugin results and stop at the first throw; they are the prices users already pay.
 */
import { EventEmitter } from 'node:events';
import EventEmitter3 from 'eventemitter3';
import tapable from 'tapable';
import { createHooks } from 'hookable';
import { measure } from '../lib/measure.js';
import { ARGS, syncPlugins, extensionWith, countPluginCalls } from '../lib/fixtures.js';
import { generatedFloor, loopFloor } from '../lib/floors.js';

const PLUGINS = 10;

export const id = '1';
export const title = 'Sync dispatch, 10 plugins';
export const description = 'one call of a point with 10 sync plugins; extpoint returns 10 { state, info, data } results';
export const unit = 'ns/call';
export const baseline = 'floor';

export const variants = [
  { key: 'callPluginsSync', label: 'extpoint callPluginsSync' },
  { key: 'pointCallSync', label: 'extpoint point().callSync' },
  { key: 'notify', label: 'extpoint notify (no results)' },
  { key: 'pointNotify', label: 'extpoint point().notify' },
  { key: 'floor', label: 'floor: generated code, results' },
  { key: 'loop', label: 'plain for loop, results' },
  { key: 'tapable', label: 'tapable SyncHook.call' },
  { key: 'events', label: 'node EventEmitter.emit' },
  { key: 'eventemitter3', label: 'eventemitter3 emit' },
  { key: 'hookable', label: 'hookable callHook (sync hooks)' },
];

export const goals = [
  { text: 'callPluginsSync within 1.2x of the generated floor', variant: 'callPluginsSync', against: 'floor', op: '<=', limit: 1.2 },
  { text: 'point().callSync within 1.2x of the generated floor', variant: 'pointCallSync', against: 'floor', op: '<=', limit: 1.2 },
  { text: 'callPluginsSync under 0.5x of EventEmitter.emit', variant: 'callPluginsSync', against: 'events', op: '<', limit: 0.5 },
  { text: 'notify at most 1.0x of tapable SyncHook.call', variant: 'notify', against: 'tapable', op: '<=', limit: 1.0 },
  { text: 'point().notify at most 1.0x of tapable SyncHook.call', variant: 'pointNotify', against: 'tapable', op: '<=', limit: 1.0 },
];

/** Builds one contestant: a function that makes one call with `args`. */
function contestant(key) {
  const fns = syncPlugins(PLUGINS);
  switch (key) {
    case 'callPluginsSync': {
      const ext = extensionWith(fns);
      return (args) => ext.callPluginsSync('host', 'p', args);
    }
    case 'pointCallSync': {
      const point = extensionWith(fns).point('host', 'p');
      return (args) => point.callSync(args);
    }
    case 'notify': {
      const ext = extensionWith(fns);
      return (args) => ext.notify('host', 'p', args);
    }
    case 'pointNotify': {
      const point = extensionWith(fns).point('host', 'p');
      return (args) => point.notify(args);
    }
    case 'floor':
      return generatedFloor(fns).call;
    case 'loop':
      return loopFloor(fns).call;
    case 'tapable': {
      const hook = new tapable.SyncHook(['a']);
      fns.forEach((fn, i) => hook.tap(`plugin${i}`, fn));
      return (args) => hook.call(args);
    }
    case 'events':
    case 'eventemitter3': {
      const emitter = key === 'events' ? new EventEmitter() : new EventEmitter3();
      fns.forEach((fn) => emitter.on('p', fn));
      return (args) => emitter.emit('p', args);
    }
    case 'hookable': {
      const hooks = createHooks();
      fns.forEach((fn) => hooks.hook('p', fn));
      return (args) => hooks.callHook('p', args);
    }
    default:
      throw new Error(`case 1 has no contestant ${key}`);
  }
}

export async function run(key, opts) {
  const call = contestant(key);
  const pluginsCalled = countPluginCalls(call);
  if (pluginsCalled !== PLUGINS) throw new Error(`${key} called ${pluginsCalled} plugins, not ${PLUGINS}`);
  const m = await measure(() => call(ARGS), opts);
  return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch, pluginsCalled } };
}
