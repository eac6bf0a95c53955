// The demo: a port of the origin's plugin_demo:test(). Run it with `npm run demo`.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { extension } from '../dist/index.js';
import * as pluginDemo from './plugin_demo.js';
import { pipelineDemo } from './pipeline.js';

// Plugin modules loaded the CommonJS way are found by start() in require.cache, as the origin found
// modules on its code path. The ES module host registers itself.
const require = createRequire(import.meta.url);
require('../plugins/anat.cjs');
require('../plugins/plugin2.cjs');
extension.registerModule('plugin_demo', pluginDemo);
await extension.start();

for (let i = 1; i <= 2; i++) {
  console.log(`call ${i}: plugin_demo.test() ->`);
  console.log(inspect(pluginDemo.test(), { depth: 4, colors: process.stdout.isTTY }));
}
console.log();
console.log(inspect(extension.report(), { colors: process.stdout.isTTY }));

console.log();
await pipelineDemo();
