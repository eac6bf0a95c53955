/**
 * Case 2: how a sync call grows with the number of plugins on one point (1, 10, 100, 1,000), each size
 * against the generated floor of the same size; and what finding a point costs when a host has 10,000
 * of them (one plugin each), called by name in turn, against the same calls all landing on one point.
 */
import { measure } from '../lib/measure.js';
import { ARGS, syncPlugins, extensionWith, countPluginCalls, pluginModule } from '../lib/fixtures.js';
import { generatedFloor } from '../lib/floors.js';
import { createExtension } from '../../dist/index.js';

const SIZES = [1, 10, 100, 1000];
const POINTS = 10_000;

export const id = '2';
export const title = 'Scaling: plugins per point, and many points';
export const description =
  'callPluginsSync with 1 to 1,000 plugins on one point (ratio to the generated floor of the same size); ' +
  '10,000 points of one plugin each, called by name in turn';
export const unit = 'ns/call';

export const variants = [
  ...SIZES.flatMap((n) => [
    { key: `ext${n}`, label: `extpoint, ${n} plugin${n > 1 ? 's' : ''}`, ratioTo: `floor${n}` },
    { key: `floor${n}`, label: `floor, ${n} plugin${n > 1 ? 's' : ''}`, ratioTo: `floor${n}` },
  ]),
  { key: 'onePoint', label: 'by name, the same point each call', ratioTo: 'onePoint' },
  { key: 'manyPoints', label: 'by name, 10,000 points in turn', ratioTo: 'onePoint' },
  { key: 'manyHandles', label: 'point() handles, 10,000 in turn', ratioTo: 'onePoint' },
  { key: 'manyFloors', label: 'floor: 10,000 generated functions in turn', ratioTo: 'onePoint' },
];

/** An extension whose module `host` declares `count` points p0.., each with one plugin. */
function manyPointsExtension(count) {
  const ext = createExtension({ scanLoaded: false });
  const host = {};
  const plugins = {};
  const fns = syncPlugins(1);
  for (let i = 0; i < count; i++) {
    host[`host_p${i}_Extension`] = () => {};
    plugins[`host_p${i}_Plugin`] = fns[0];
  }
  ext.registerModule('host', host);
  ext.registerModule(pluginModule(0), plugins);
  return ext;
}

function contestant(key) {
  const size = Number(/\d+$/.exec(key)?.[0]);
  if (key.startsWith('ext')) {
    const ext = extensionWith(syncPlugins(size));
    return { call: (args) => ext.callPluginsSync('host', 'p', args), plugins: size };
  }
  if (key.startsWith('floor')) return { call: generatedFloor(syncPlugins(size)).call, plugins: size };
  if (key === 'manyFloors') {
    // What any per-point compiled code pays here: 10,000 separate functions, each called once in 10,000.
    const fns = syncPlugins(1);
    const floors = Array.from({ length: POINTS }, () => generatedFloor(fns).call);
    let i = 0;
    return {
      call: (args) => {
        i = i === POINTS - 1 ? 0 : i + 1;
        return floors[i](args);
      },
      plugins: 1,
    };
  }
  const ext = manyPointsExtension(POINTS);
  // The same loop for all three: only the points it reaches differ.
  const names = Array.from({ length: POINTS }, (_, i) => (key === 'onePoint' ? 'p0' : `p${i}`));
  let i = 0;
  if (key === 'manyHandles') {
    const handles = names.map((name) => ext.point('host', name));
    return {
      call: (args) => {
        i = i === POINTS - 1 ? 0 : i + 1;
        return handles[i].callSync(args);
      },
      plugins: 1,
    };
  }
  return {
    call: (args) => {
      i = i === POINTS - 1 ? 0 : i + 1;
      return ext.callPluginsSync('host', names[i], args);
    },
    plugins: 1,
  };
}

export async function run(key, opts) {
  const { call, plugins } = contestant(key);
  const called = countPluginCalls(call);
  if (called !== plugins) throw new Error(`${key} called ${called} plugins, not ${plugins}`);
  const m = await measure(() => call(ARGS), opts);
  return { value: m.nsPerOp, extra: { nsPerPlugin: m.nsPerOp / plugins, samples: m.samples, batch: m.batch } };
}
