// The demo as a long-running host that operators can attach to. Run it with
//   npm run build && node demo/serve.js [SOCKET]
// and, from another terminal, `npx extpoint attach SOCKET` (or `node dist/cli.js attach SOCKET`).
// It loads plugins/ and watches a fresh drop-in folder, calls plugin_demo's point1 once a second, serves
// a REPL on the socket (default: extpoint-demo.sock in the temp folder), and stops cleanly on Ctrl+C or
// SIGTERM, which ends the attached sessions and removes the socket.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExtension } from '../dist/index.js';
import * as pluginDemo from './plugin_demo.js';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const socketPath = process.argv[2] ?? join(tmpdir(), 'extpoint-demo.sock');

const dropIn = await mkdtemp(join(tmpdir(), 'extpoint-demo-'));
const ext = createExtension({ pluginDirs: [here('../plugins'), dropIn], scanLoaded: false });
ext.registerModule('plugin_demo', pluginDemo);
ext.on('load', (e) => console.log(`load: module ${e.module}${e.file ? ` from ${e.file}` : ''}`));
ext.on('unload', (e) => console.log(`unload: module ${e.module}`));
ext.on('loadError', (e) => console.log(`load error: ${e.file ?? e.module}: ${e.message}`));
await ext.start();

let service;
try {
  service = await ext.serveRepl(socketPath);
} catch (err) {
  console.error(err.message);
  await ext.stop('could not serve');
  await rm(dropIn, { recursive: true, force: true });
  process.exit(1);
}

// The host's own work: call point1 once a second, so that the counters move while you watch.
const point1 = ext.point('plugin_demo', 'point1');
let order = 0;
const work = setInterval(() => point1.callSync({ order: ++order }), 1000);

console.log(`extpoint demo host, process ${process.pid}`);
console.log(`  attach:   node dist/cli.js attach ${service.path}`);
console.log(`  drop-in:  copy a plugin file into ${dropIn} (try: cp ${here('late.cjs')} ${dropIn}/)`);
console.log('  stop:     Ctrl+C');

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  clearInterval(work);
  await ext.stop(signal);
  await rm(dropIn, { recursive: true, force: true });
  console.log(`stopped (${signal}); ${order} calls made; socket removed`);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
