/**
 * Case 9: calls by name against calls through a `point()` handle, side by side for every kind of call:
 * what the name lookup costs. Each pair runs the same plugins; the by-name row's ratio is to its handle
 * row. The last pair calls 16 points in turn, as a host with many points does (one call site that sees
 * every point's caller).
 */
import { measure } from '../lib/measure.js';
import { ARGS, syncPlugins, pipeSteps, extensionWith, countPluginCalls, countPluginCallsAsync } from '../lib/fixtures.js';

const PLUGINS = 10;
const POINTS = 16;

export const id = '9';
export const title = 'Calls by name against point() handles';
export const description = `the same point of ${PLUGINS} sync plugins called by name and through a handle; then ${POINTS} points in turn`;
export const unit = 'ns/call';

export const variants = [
  { key: 'nameSync', label: 'callPluginsSync(m, p, args)', ratioTo: 'handleSync' },
  { key: 'handleSync', label: 'point().callSync(args)', ratioTo: 'handleSync' },
  { key: 'nameNotify', label: 'notify(m, p, args)', ratioTo: 'handleNotify' },
  { key: 'handleNotify', label: 'point().notify(args)', ratioTo: 'handleNotify' },
  { key: 'nameCall', label: 'await callPlugins(m, p, args)', ratioTo: 'handleCall' },
  { key: 'handleCall', label: 'await point().call(args)', ratioTo: 'handleCall' },
  { key: 'namePipe', label: 'await pipe(m, p, state)', ratioTo: 'handlePipe' },
  { key: 'handlePipe', label: 'await point().pipe(state)', ratioTo: 'handlePipe' },
  { key: 'nameMany', label: `callPluginsSync, ${POINTS} points in turn`, ratioTo: 'handleMany' },
  { key: 'handleMany', label: `point().callSync, ${POINTS} points in turn`, ratioTo: 'handleMany' },
];

const within = (variant, against, what) => ({
  text: `${what} by name within 1.15x of the handle`,
  variant,
  against,
  op: '<=',
  limit: 1.15,
});

export const goals = [
  within('nameSync', 'handleSync', 'callPluginsSync'),
  within('nameNotify', 'handleNotify', 'notify'),
  within('nameCall', 'handleCall', 'callPlugins'),
  within('namePipe', 'handlePipe', 'pipe'),
  within('nameMany', 'handleMany', `callPluginsSync over ${POINTS} points`),
];

/** An extension with POINTS points p0..p15 of host, each with its own PLUGINS plugins. */
function manyPoints() {
  const ext = extensionWith(syncPlugins(PLUGINS), { point: 'p0' });
  for (let k = 1; k < POINTS; k++) {
    syncPlugins(PLUGINS).forEach((fn, i) => ext.registerModule(`m${k}x${i}`, { [`host_p${k}_Plugin`]: fn }));
  }
  return ext;
}

/** One contestant: `{ call, async, pipe }`. */
function contestant(key) {
  switch (key) {
    case 'nameSync':
    case 'nameNotify':
    case 'nameCall': {
      const ext = extensionWith(syncPlugins(PLUGINS));
      if (key === 'nameSync') return { call: (a) => ext.callPluginsSync('host', 'p', a) };
      if (key === 'nameNotify') return { call: (a) => ext.notify('host', 'p', a) };
      return { call: (a) => ext.callPlugins('host', 'p', a), async: true };
    }
    case 'handleSync':
    case 'handleNotify':
    case 'handleCall': {
      const point = extensionWith(syncPlugins(PLUGINS)).point('host', 'p');
      if (key === 'handleSync') return { call: (a) => point.callSync(a) };
      if (key === 'handleNotify') return { call: (a) => point.notify(a) };
      return { call: (a) => point.call(a), async: true };
    }
    case 'namePipe': {
      const ext = extensionWith(pipeSteps(PLUGINS));
      return { call: (s) => ext.pipe('host', 'p', s), async: true, pipe: true };
    }
    case 'handlePipe': {
      const point = extensionWith(pipeSteps(PLUGINS)).point('host', 'p');
      return { call: (s) => point.pipe(s), async: true, pipe: true };
    }
    case 'nameMany': {
      const ext = manyPoints();
      const names = Array.from({ length: POINTS }, (_, k) => `p${k}`);
      let k = 0;
      return { call: (a) => ext.callPluginsSync('host', names[(k = (k + 1) % POINTS)], a) };
    }
    case 'handleMany': {
      const ext = manyPoints();
      const handles = Array.from({ length: POINTS }, (_, k) => ext.point('host', `p${k}`));
      let k = 0;
      return { call: (a) => handles[(k = (k + 1) % POINTS)].callSync(a) };
    }
    default:
      throw new Error(`case 9 has no contestant ${key}`);
  }
}

export async function run(key, opts) {
  const { call, async = false, pipe = false } = contestant(key);
  if (pipe) {
    const out = await call(1);
    if (out !== 1 + 45) throw new Error(`${key} piped 1 to ${out}, not 46`);
    let s = 0;
    const m = await measure(() => call((s = (s + 1) & 1023)), { ...opts, async });
    return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
  }
  const called = async ? await countPluginCallsAsync(call) : countPluginCalls(call);
  if (called !== PLUGINS) throw new Error(`${key} called ${called} plugins, not ${PLUGINS}`);
  const m = await measure(() => call(ARGS), { ...opts, async });
  return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
}
