/**
 * Case 8b: cluster-wide flags in a NATS key-value bucket. The bucket is off the call path: a host with
 * the cluster flags attached calls as fast as one without (side by side here). A flag call returns once
 * the registry is set (the local part); `flagsSettled()` resolves once the value is in the bucket (one
 * key-value put on loopback); a second host in the same process applies it from its watch. Each contestant
 * starts its own `nats-server -js` on a free loopback port, with a temp store folder.
 */
import { spawn } from 'node:child_process';
import { connect as tcpConnect, createServer } from 'node:net';
import { createExtension } from '../../dist/index.js';
import { measure, median, percentile } from '../lib/measure.js';
import { ARGS, syncPlugins, pluginModule } from '../lib/fixtures.js';
import { tempFolder, removeFolder } from '../lib/files.js';

export const id = '8b';
export const title = 'Cluster-wide flags (NATS key-value)';
export const description = 'flags replicated through a NATS key-value bucket: calls untouched, flag latencies';
export const unit = 'ns/call';

export function variants({ quick }) {
  const n = quick ? 20 : 200;
  return [
    { key: 'calls', label: 'callPlugins, 10 sync plugins, no cluster' },
    { key: 'callsCluster', label: 'callPlugins, 10 sync plugins, cluster flags attached', ratioTo: 'calls' },
    { key: 'flagNoCluster', label: `flag call returns, no cluster, median of ${n}`, unit: 'µs' },
    { key: 'flagLocal', label: `flag call returns, cluster attached, median of ${n}`, unit: 'µs' },
    { key: 'flagSettled', label: `flag call + flagsSettled() (in the bucket), median of ${n}`, unit: 'µs' },
    { key: 'flagSettledP99', label: 'flag call + flagsSettled(), 99th percentile', unit: 'µs', from: 'flagSettled', field: 'p99' },
    { key: 'flagSeen', label: `flag call on host A until host B applies it, median of ${n}`, unit: 'µs' },
    { key: 'flagSeenP99', label: 'flag call on A until B applies it, 99th percentile', unit: 'µs', from: 'flagSeen', field: 'p99' },
  ];
}

export const goals = [
  { text: 'callPlugins with cluster flags attached within 1.1x of without', variant: 'callsCluster', against: 'calls', op: '<=', limit: 1.1 },
];

function freePort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

const accepts = (port) =>
  new Promise((done) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });

/** A nats-server with JetStream for this process; `stop()` kills it by pid. */
async function natsServer(dir) {
  const port = await freePort();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  const failed = new Promise((_, fail) => child.once('error', (e) => fail(new Error(`nats-server did not start: ${e.message}`))));
  failed.catch(() => {});
  for (let i = 0; i < 200 && !(await Promise.race([accepts(port), failed])); i++) await new Promise((r) => setTimeout(r, 25));
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill('SIGKILL')))),
  };
}

function host(url) {
  const ext = createExtension(url === null ? { scanLoaded: false } : { scanLoaded: false, cluster: { servers: url, name: 'bench' } });
  ext.registerModule('host', { host_p_Extension: () => {} });
  syncPlugins(10).forEach((fn, i) => ext.registerModule(pluginModule(i), { host_p_Plugin: fn }));
  return ext;
}

export async function run(key, { quick }) {
  const dir = tempFolder('cluster');
  const server = key === 'calls' || key === 'flagNoCluster' ? null : await natsServer(dir);
  const n = quick ? 20 : 200;
  try {
    if (key === 'calls' || key === 'callsCluster') {
      const ext = host(server?.url ?? null);
      await ext.start();
      const { nsPerOp } = await measure(() => ext.callPlugins('host', 'p', ARGS), { async: true });
      const ok = ext.report().plugins.every((p) => p.ok > 0 && p.exit === 0);
      await ext.stop();
      return { value: nsPerOp, checks: [{ name: 'every plugin ran and was counted', passed: ok, detail: '' }] };
    }
    const a = host(server?.url ?? null);
    const b = key === 'flagSeen' ? host(server.url) : null;
    await a.start();
    await b?.start();
    const times = [];
    for (let i = 0; i < n; i++) {
      const plugin = pluginModule(i % 10);
      const enabled = i % 20 >= 10; // disable the ten, then enable them, and again
      const t0 = process.hrtime.bigint();
      if (enabled) a.enablePlugin(plugin, 'host', 'p');
      else a.disablePlugin(plugin, 'host', 'p');
      if (key === 'flagSettled') await a.flagsSettled();
      if (key === 'flagSeen') {
        const runs = () => b.callPluginsSync('host', 'p', ARGS).some((r) => r.info.module === plugin);
        while (runs() !== enabled) await new Promise((r) => setImmediate(r));
      }
      times.push(Number(process.hrtime.bigint() - t0) / 1e3);
      await a.flagsSettled();
      await new Promise((r) => setTimeout(r, 1)); // the same pause between flag calls with and without a cluster
    }
    const settledAll = await Promise.race([a.flagsSettled().then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    await a.stop();
    await b?.stop();
    return {
      value: median(times),
      extra: { p99: percentile(times, 99) },
      checks: [{ name: 'every flag change reached the bucket', passed: settledAll, detail: '' }],
    };
  } finally {
    await server?.stop();
    removeFolder(dir);
  }
}

export const runs = ({ quick }) => (quick ? 1 : 5);
