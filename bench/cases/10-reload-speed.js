/**
 * Case 10: does a call keep its speed after its point has been recompiled? One process, one timing loop:
 * the loop is timed, then the point is recompiled 10 times (reloads with new plugin code, or flag
 * changes), with calls through that same loop after each, then the loop is timed again. The "before" row
 * is the first timing of the same processes; the ratio is after / before.
 */
import { measure } from '../lib/measure.js';
import { ARGS, extensionWith, pluginModule, countPluginCalls } from '../lib/fixtures.js';

const PLUGINS = 10;
const RECOMPILES = 10;

export const id = '10';
export const title = 'Speed after 10 recompiles of a point';
export const description =
  `a point of ${PLUGINS} sync plugins timed in one loop before and after ${RECOMPILES} reloads or flag changes, with calls in between`;
export const unit = 'ns/call';

const kinds = [
  ['handleReload', 'point().callSync', 'reloads with new plugin code'],
  ['handleFlags', 'point().callSync', 'flag changes'],
  ['nameReload', 'callPluginsSync', 'reloads with new plugin code'],
  ['notifyReload', 'point().notify', 'reloads with new plugin code'],
];

export const variants = kinds.flatMap(([key, call, what]) => [
  { key: `${key}Before`, label: `${call}, before`, from: key, field: 'before', ratioTo: `${key}Before` },
  { key, label: `${call}, after ${RECOMPILES} ${what}`, ratioTo: `${key}Before` },
]);

export const goals = kinds.map(([key, call, what]) => ({
  text: `${call} after ${RECOMPILES} ${what} within 1.1x of before`,
  variant: key,
  against: `${key}Before`,
  op: '<=',
  limit: 1.1,
}));

/** Plugins of version `v`: plugin i returns `a.n + i + 100 * v`, each its own function from its own source. */
function versionPlugins(v) {
  return Array.from(
    { length: PLUGINS },
    (_, i) => new Function(`return function plugin${i}v${v}(a) { return a.n + ${i + 100 * v}; };`)(),
  );
}

export async function run(key, opts) {
  const ext = extensionWith(versionPlugins(0));
  const point = ext.point('host', 'p');
  const call =
    key === 'nameReload'
      ? (a) => ext.callPluginsSync('host', 'p', a)
      : key === 'notifyReload'
        ? (a) => point.notify(a)
        : (a) => point.callSync(a);
  const op = () => call(ARGS);
  const between = opts.quick ? 2_000 : 50_000;
  const before = await measure(op, opts);
  let version = 0;
  for (let r = 0; r < RECOMPILES; r++) {
    if (key === 'handleFlags') {
      // Each change recompiles: a plugin off, then on again; every other time the whole point.
      if (r % 2 === 0) ext.disablePlugin(pluginModule(r % PLUGINS), 'host', 'p');
      else ext.disablePoint('host', 'p');
      for (let i = 0; i < between; i++) op();
      if (r % 2 === 0) ext.enablePlugin(pluginModule(r % PLUGINS), 'host', 'p');
      else ext.enablePoint('host', 'p');
    } else {
      version = r + 1;
      versionPlugins(version).forEach((fn, i) => ext.registerModule(pluginModule(i), { host_p_Plugin: fn }));
    }
    for (let i = 0; i < between; i++) op();
  }
  const after = await measure(op, opts);
  const checks = [];
  if (key !== 'notifyReload') {
    const data = point.callSync(ARGS).map((r) => r.data);
    const want = Array.from({ length: PLUGINS }, (_, i) => ARGS.n + i + 100 * version);
    checks.push({
      name: 'calls answer with the newest plugins',
      passed: JSON.stringify(data) === JSON.stringify(want),
      detail: `results ${JSON.stringify(data)}`,
    });
  }
  const called = countPluginCalls(call);
  checks.push({ name: 'every plugin runs', passed: called === PLUGINS, detail: `${called} of ${PLUGINS} plugins ran` });
  return { value: after.nsPerOp, extra: { before: before.nsPerOp, samples: after.samples, batch: after.batch }, checks };
}
