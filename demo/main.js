// The demo: a port of the origin's plugin_demo:test(), with its plugin modules loaded from a watched
// plugin folder. Run it with `npm run demo`.
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { extension } from '../dist/index.js';
import * as pluginDemo from './plugin_demo.js';
import { pipelineDemo } from './pipeline.js';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const show = (value) => inspect(value, { depth: 4, colors: process.stdout.hasColors?.() === true }); // a terminal with colours: NO_COLOR, TERM=dumb say no

// plugins/ holds anat and plugin2, as the origin's code path did; a second, empty folder is where a plugin
// will be dropped in later. Both are scanned by start() and then watched.
const dropIn = await mkdtemp(join(tmpdir(), 'extpoint-demo-'));
// The host calls the process-wide `extension`, as the origin's hosts called its registered process; the
// ES module host registers itself (CommonJS hosts are found in require.cache by start()).
const ext = extension;
ext.registerModule('plugin_demo', pluginDemo);
await ext.start({ pluginDirs: [here('../plugins'), dropIn] });
// The web panel shows the same report live in a browser. `npm run demo -- --panel` keeps it open (and the
// demo's host running) until Ctrl-C, to look around before the demo stops.
const panel = await ext.servePanel();
console.log(`web panel: ${panel.url}`);

for (let i = 1; i <= 2; i++) {
  console.log(`call ${i}: plugin_demo.test() ->`);
  console.log(show(pluginDemo.test()));
}
console.log();
console.log(show(ext.report()));

// A plugin dropped into the watched folder while the host runs: no restart, the next call sees it.
console.log();
const timeout = { signal: AbortSignal.timeout(10_000) };
const loaded = once(ext, 'load', timeout);
await copyFile(here('late.cjs'), join(dropIn, 'late.cjs'));
const [event] = await loaded;
console.log(`load event: module ${event.module} from ${event.file}`);
console.log('call 3: plugin_demo.test() ->');
console.log(show(pluginDemo.test().map((r) => `${r.info.module}: ${r.state} ${r.state === 'ok' ? JSON.stringify(r.data) : r.data.message}`)));

// Deleting the file unloads it.
const unloaded = once(ext, 'unload', timeout);
await rm(join(dropIn, 'late.cjs'));
console.log(`unload event: module ${(await unloaded)[0].module}; point1 now has ${pluginDemo.test().length} plugins`);
if (process.argv.includes('--panel')) {
  console.log(`the web panel stays open at ${panel.url} until Ctrl-C`);
  await once(process, 'SIGINT');
}
await ext.stop('demo done');
await rm(dropIn, { recursive: true, force: true });

console.log();
await pipelineDemo();
