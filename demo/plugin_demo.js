// The host module of the demo, as in the origin: it owns the extension point `point1` and calls its
// plugins there. It also offers a plugin of its own to that point.
import { extension } from '../dist/index.js';

/** The extension point: the host calls this where it wants to be extended. */
export function plugin_demo_point1_Extension(args) {
  return extension.callPluginsSync('plugin_demo', 'point1', args);
}

/** The host's own plugin for its point. */
export function plugin_demo_point1_Plugin(args) {
  return { from: 'plugin_demo', got: args };
}

export function test() {
  return plugin_demo_point1_Extension({ order: 1 });
}
