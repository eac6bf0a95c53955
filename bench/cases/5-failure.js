/**
 * Case 5: the failure path. One plugin of 10 throws a new Error on every call; extpoint turns it into an
 * EXIT result, counts it and keeps its reason (a bounded ring of the last 10). Compared with the same
 * point when nothing fails (case 1's contestant), and with the floor doing the same throw.
 */
import { measure } from '../lib/measure.js';
import { ARGS, syncPlugins, pluginsFailingAt, extensionWith } from '../lib/fixtures.js';
import { generatedFloor } from '../lib/floors.js';

const PLUGINS = 10;
const FAILING = 5;

export const id = '5';
export const title = 'Failure path: 1 of 10 plugins throws on every call';
export const description = 'callPluginsSync of 10 plugins, one of which throws a new Error each call';
export const unit = 'ns/call';

export const variants = [
  { key: 'healthy', label: 'extpoint, no plugin fails', ratioTo: 'healthy' },
  { key: 'failing', label: 'extpoint, 1 of 10 throws', ratioTo: 'healthy' },
  { key: 'floorHealthy', label: 'floor, no plugin fails', ratioTo: 'floorHealthy' },
  { key: 'floorFailing', label: 'floor, 1 of 10 throws', ratioTo: 'floorHealthy' },
  { key: 'failingVsFloor', label: 'extpoint, 1 of 10 throws (same)', ratioTo: 'floorFailing', sameAs: 'failing' },
];

function contestant(key) {
  const fns = key.toLowerCase().includes('failing') ? pluginsFailingAt(PLUGINS, FAILING) : syncPlugins(PLUGINS);
  if (key.startsWith('floor')) return generatedFloor(fns).call;
  const ext = extensionWith(fns);
  return (args) => ext.callPluginsSync('host', 'p', args);
}

export async function run(key, opts) {
  const call = contestant(key);
  const results = call(ARGS);
  const exits = results.filter((r) => r.state === 'EXIT').length;
  const expected = key.toLowerCase().includes('failing') ? 1 : 0;
  if (results.length !== PLUGINS || exits !== expected) {
    throw new Error(`${key} gave ${results.length} results with ${exits} exits, not ${PLUGINS} with ${expected}`);
  }
  const m = await measure(() => call(ARGS), opts);
  return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
}
