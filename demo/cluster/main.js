// The cluster demo: a nats-server, a remote plugin node in its own process, and a host that calls it.
// Run it with `npm run demo:cluster` (it needs nats-server on the PATH, or NATS_URL naming a running one).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExtension } from '../../dist/index.js';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const children = [];
// JetStream's store (the cluster-wide flags live there) in a folder of the demo's own, removed at the end.
const store = mkdtempSync(join(tmpdir(), 'extpoint-demo-nats-'));
const cleanup = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(store, { recursive: true, force: true });
};
process.on('exit', cleanup);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `command args` and resolves once its output matches `ready`. */
function start(command, args, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const seen = (chunk) => {
      out += chunk;
      if (ready.test(out)) resolve(child);
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${out}`)));
  });
}

let url = process.env.NATS_URL;
if (url === undefined) {
  const port = await freePort();
  url = `nats://127.0.0.1:${port}`;
  try {
    await start('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], /Server is ready/);
  } catch (e) {
    console.error(`demo:cluster needs nats-server (apt-get install nats-server) or NATS_URL=nats://...: ${e.message}`);
    process.exit(1);
  }
}
console.log(`nats-server at ${url}`);

// The remote node: `extpoint node` serving demo/cluster/plugins as "billing-eu".
const nodeArgs = [here('../../dist/cli.js'), 'node', '--nats', url, '--name', 'billing-eu', '--plugins', here('./plugins'), '--heartbeat-ms', '200'];
const node = await start(process.execPath, nodeArgs, /: serving /);
console.log(`node billing-eu started (pid ${node.pid})`);

// The host: joins the cluster, and has a plugin of its own on the same point.
const ext = createExtension({ scanLoaded: false, cluster: { servers: url, heartbeatMs: 200, callTimeoutMs: 1000 } });
ext.registerModule('shipping', { shop_checkout_Plugin: (order) => ({ shipping: order.cents > 5000 ? 0 : 499, by: `host (pid ${process.pid})` }) });
const up = new Promise((resolve) => ext.on('nodeUp', resolve));
await ext.start();
await up;

const show = (results) => results.map((r) => `  ${r.state} ${r.info.module}@${r.info.node}: ${JSON.stringify(r.data)}`).join('\n');
console.log(`callPlugins(shop, checkout, { cents: 1999 }) ->\n${show(await ext.callPlugins('shop', 'checkout', { cents: 1999 }, { parallel: true }))}`);
console.log(`health: ${(await ext.health('shop', 'checkout')).modules.map((m) => `${m.module} ${m.status}`).join(', ')}`);
console.log(ext.report().text({ color: false }).split('\n').filter((line) => /^nodes|^  \S+ (local|remote) /.test(line)).join('\n'));

// kill -9: the node's plugins answer ENODEDOWN; the host's own plugin still runs.
node.kill('SIGKILL');
const down = new Promise((resolve) => ext.once('nodeDown', resolve));
const afterKill = await ext.callPlugins('shop', 'checkout', { cents: 1999 }, { parallel: true });
await down;
console.log(`after kill -9 of the node ->\n${afterKill.map((r) => `  ${r.state} ${r.info.module}@${r.info.node}${r.state === 'EXIT' ? ` ${r.data.code}` : ''}`).join('\n')}`);

// It comes back: the host registers it again, counters kept.
const back = new Promise((resolve) => ext.once('nodeUp', resolve));
await start(process.execPath, nodeArgs, /: serving /);
await back;
const again = await ext.callPlugins('shop', 'checkout', { cents: 1999 }, { parallel: true });
console.log(`node back ->\n${show(again)}`);
const row = ext.report({ point: 'shop/checkout' }).plugins.find((p) => p.module === 'billing');
console.log(`billing plugin counters: ok ${row.ok}, exit ${row.exit}`);

await ext.stop();
cleanup();
console.log('done');
