/**
 * Case 13: an awaited call of a point whose 10 plugins run on one remote node (an `extpoint node`
 * process on loopback NATS), against a raw NATS request/reply carrying the same request bytes to a bare
 * responder process running the same 10 functions (the floor). Also: 64 calls in flight against 64 raw
 * requests in flight, the time from a node's kill -9 to its plugins answering ENODEDOWN, and from its
 * return (the process started again) to its rows being up. Needs `nats-server` on the PATH.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { createExtension } from '../../dist/index.js';
import { measure } from '../lib/measure.js';
import { ARGS, pluginModule } from '../lib/fixtures.js';
import { removeFolder, writePluginFiles } from '../lib/files.js';

const PLUGINS = 10;
const IN_FLIGHT = 64;
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../../dist/cli.js');
const RESPONDER = path.join(here, '../lib/raw-responder.js');

export const id = '13';
export const title = 'Remote node over NATS, 10 plugins';
export const description = 'one awaited call of a point whose 10 plugins run on a remote node process, over loopback NATS';
export const unit = 'ns/call';

export const variants = [
  { key: 'remoteParallel', label: 'extpoint callPlugins parallel, remote node', ratioTo: 'rawBatch' },
  { key: 'remoteSeq', label: 'extpoint callPlugins, remote node', ratioTo: 'rawBatch' },
  { key: 'rawBatch', label: 'raw NATS request/reply, same request bytes', ratioTo: 'rawBatch' },
  { key: 'remote64', label: 'extpoint, 64 parallel calls in flight', ratioTo: 'raw64' },
  { key: 'raw64', label: 'raw NATS, 64 requests in flight', ratioTo: 'raw64' },
  { key: 'killToDown', label: 'kill -9 of the node to ENODEDOWN', unit: 'ms', ratioTo: 'killToDown' },
  { key: 'returnToUp', label: 'node process started again to rows up', unit: 'ms', ratioTo: 'returnToUp' },
];

export const goals = [
  { text: 'remote node call (parallel: one request) within 1.3x of a raw NATS request/reply', variant: 'remoteParallel', against: 'rawBatch', op: '<=', limit: 1.3 },
];

export const notes = [
  'returnToUp includes starting the node process (Node, the folder code, esbuild and chokidar); the host registers the node within one announcement of it.',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One nats-server for the whole case (its contestants run in their own processes and connect to it). */
export async function prepare() {
  const port = await freePort();
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`case 13 needs nats-server on the PATH (.ci/run installs it): ${e.message}`)));
    setTimeout(resolve, 300);
  });
  return { natsUrl: `nats://127.0.0.1:${port}`, natsPid: server.pid };
}

export async function cleanup(context) {
  if (context.natsPid !== undefined) process.kill(context.natsPid, 'SIGKILL');
}

/** Starts `node args` and resolves once it printed `ready` (a regular expression). */
function startProcess(args, ready) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (ready.test(out)) resolve(child);
    });
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  return gone;
}

/** A node process serving `dir` as `name`, and a host that sees it up. */
async function nodeAndHost(url, cluster, dir) {
  const name = 'bench';
  const nodeArgs = [CLI, 'node', '--nats', url, '--cluster', cluster, '--name', name, '--plugins', dir, '--no-watch', '--heartbeat-ms', '100'];
  let node = await startProcess(nodeArgs, /: serving /);
  const ext = createExtension({ scanLoaded: false, cluster: { servers: url, name: cluster, heartbeatMs: 100, callTimeoutMs: 5000 } });
  await ext.start();
  const up = () => ext.report().nodes.some((n) => n.node === name && n.status === 'up' && n.plugins === PLUGINS);
  while (!up()) await new Promise((r) => setTimeout(r, 5));
  return {
    ext,
    up,
    node: () => node,
    restart: async () => (node = await startProcess(nodeArgs, /: serving /)),
    stop: async () => {
      await ext.stop();
      await stopProcess(node);
    },
  };
}

/** kill -9 to ENODEDOWN, and process start to rows up, in milliseconds (medians of several rounds). */
async function lifeCycle(key, url, cluster, dir, quick) {
  const setup = await nodeAndHost(url, cluster, dir);
  const times = [];
  try {
    for (let i = 0; i < (quick ? 1 : 5); i++) {
      const t0 = process.hrtime.bigint();
      setup.node().kill('SIGKILL');
      for (;;) {
        const [r] = await setup.ext.callPlugins('host', 'p', ARGS, { parallel: true });
        if (r.state === 'EXIT' && r.data.code === 'ENODEDOWN') break;
      }
      const t1 = process.hrtime.bigint();
      await setup.restart();
      while (!setup.up()) await new Promise((r) => setImmediate(r));
      const t2 = process.hrtime.bigint();
      times.push(Number((key === 'killToDown' ? t1 - t0 : t2 - t1)) / 1e6);
    }
  } finally {
    await setup.stop();
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export async function run(key, opts) {
  const url = opts.natsUrl;
  const cluster = `bench${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'extpoint-bench-remote-'));
  writePluginFiles(dir, PLUGINS);
  try {
    if (key === 'killToDown' || key === 'returnToUp') return { value: await lifeCycle(key, url, cluster, dir, opts.quick) };
    let call;
    let stop;
    const perOp = key.endsWith('64') ? IN_FLIGHT : 1;
    if (key.startsWith('remote')) {
      const setup = await nodeAndHost(url, cluster, dir);
      stop = setup.stop;
      const options = key === 'remoteSeq' ? undefined : { parallel: true };
      const one = async (args) => (await setup.ext.callPlugins('host', 'p', args, options)).map((r) => r.data);
      call = key === 'remote64' ? async (args) => (await Promise.all(Array.from({ length: IN_FLIGHT }, () => one(args))))[0] : one;
    } else {
      const subject = `bench.raw.${process.pid}`;
      const responder = await startProcess([RESPONDER, url, subject], /ready/);
      const nc = await connect({ servers: url });
      stop = async () => {
        await nc.close();
        await stopProcess(responder);
      };
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      const one = async (args) => {
        // The same bytes a remote node receives for a call of the 10 plugins, made with plain JSON.
        const calls = Array.from({ length: PLUGINS }, (_, i) => ({ module: pluginModule(i), fn: 'host_p_Plugin', args }));
        const reply = await nc.request(subject, encoder.encode(JSON.stringify({ v: 1, t: 'call', calls })), { timeout: 5000 });
        return JSON.parse(decoder.decode(reply.data)).answers.map((a) => a.data);
      };
      call = key === 'raw64' ? async (args) => (await Promise.all(Array.from({ length: IN_FLIGHT }, () => one(args))))[0] : one;
    }
    try {
      const first = await call(ARGS);
      const expected = Array.from({ length: PLUGINS }, (_, i) => ARGS.n + i);
      if (JSON.stringify(first) !== JSON.stringify(expected)) throw new Error(`${key} answered ${JSON.stringify(first)}`);
      const m = await measure(() => call(ARGS), { ...opts, async: true });
      return { value: m.nsPerOp / perOp, extra: { samples: m.samples.map((x) => x / perOp), batch: m.batch } };
    } finally {
      await stop();
    }
  } finally {
    removeFolder(dir);
  }
}
