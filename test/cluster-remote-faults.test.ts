/**
 * Remote node faults end to end: kill -9 of a node during a storm of calls and its return, a restart
 * of nats-server itself, and a server that asks for credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, type Extension, type PluginResult } from '../src/index.js';
import { isExtpointError } from '../src/core/errors.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { killAllNodes, startNodeProcess, until, type NodeProcess } from './helpers/node-process.js';
import { runNode } from './helpers/run-node.js';

const GAMMA = 'export function shop_work_Plugin(x) { return x * 2; }\nshop_work_Plugin.priority = 10;\n';
const GAMMA_MORE = 'export function shop_work_Plugin(x) { return x + 1; }\nshop_work_Plugin.priority = 60;\n';

const servers: NatsServer[] = [];
const hosts: Extension[] = [];
let dir: string;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'ep-remote-faults-')));
  writeFileSync(join(dir, 'gamma.mjs'), GAMMA);
  writeFileSync(join(dir, 'gamma-more.mjs'), GAMMA_MORE);
});

afterAll(async () => {
  for (const ext of hosts) await ext.stop();
  await killAllNodes();
  for (const server of servers) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function server(token?: string): Promise<NatsServer> {
  const s = await startNatsServer(token === undefined ? {} : { token });
  servers.push(s);
  return s;
}

async function host(url: string, token?: string): Promise<Extension> {
  const ext = createExtension({ node: 'h', scanLoaded: false, cluster: { servers: url, callTimeoutMs: 500, heartbeatMs: 100, ...(token ? { token } : {}) } });
  hosts.push(ext);
  await ext.start();
  return ext;
}

const row = (ext: Extension, node: string) => ext.report().nodes.filter((n) => n.node === node);
const plugin = (ext: Extension, module: string) => ext.report({ point: 'shop/work', all: true }).plugins.find((p) => p.module === module)!;

describe('remote node faults', () => {
  let nats: NatsServer;
  let ext: Extension;
  let gamma: NodeProcess;
  const gammaArgs = () => ['--nats', nats.url, '--name', 'gamma', '--plugins', dir, '--heartbeat-ms', '100'];

  it('kill -9 during a storm of calls: every call returns ok, ETIMEOUT or ENODEDOWN, and the counters are exact', async () => {
    nats = await server();
    gamma = await startNodeProcess(gammaArgs());
    ext = await host(nats.url);
    await until('gamma up', () => row(ext, 'gamma')[0]?.status === 'up');
    const results: PluginResult[] = [];
    let calls = 0;
    let killed = false;
    let round = 0;
    // Rounds of 32 parallel calls; kill -9 after the third; go on until a whole round answered ENODEDOWN.
    for (;;) {
      round++;
      const batch = Array.from({ length: 32 }, (_, i) => ext.callPlugins('shop', 'work', i, { parallel: true }));
      calls += batch.length;
      if (round === 3) {
        await gamma.kill9();
        killed = true;
      }
      const answered = (await Promise.all(batch)).flat();
      results.push(...answered);
      if (killed && answered.every((r) => r.state === 'EXIT' && isExtpointError(r.data, 'ENODEDOWN'))) break;
      expect(round).toBeLessThan(200);
    }
    expect(results.length).toBe(calls * 2);
    for (const r of results) {
      if (r.state === 'ok') continue;
      expect(r.state).toBe('EXIT');
      expect(isExtpointError(r.data, 'ENODEDOWN') || isExtpointError(r.data, 'ETIMEOUT')).toBe(true);
    }
    expect(results.filter((r) => r.state === 'ok').length).toBeGreaterThanOrEqual(2 * 32 * 2);
    for (const module of ['gamma', 'gamma-more']) {
      const work = plugin(ext, module);
      expect(work.ok + work.exit).toBe(calls);
      expect(work.ok).toBe(results.filter((r) => r.info.module === module && r.state === 'ok').length);
    }
    const [gone] = row(ext, 'gamma');
    // each call hands the node both of its plugins at once (calls/crossing-node.ts): one batch per call
    expect(gone).toMatchObject({ status: 'down', plugins: 2, calls });
    expect(gone!.lastReasons.at(-1)).toMatch(/no responders|no heartbeat/);
  });

  it('the node comes back: it registers again over its rows, counters kept, no duplicate rows', async () => {
    const before = plugin(ext, 'gamma');
    gamma = await startNodeProcess(gammaArgs());
    await until('gamma up again', () => row(ext, 'gamma')[0]?.status === 'up');
    const results = await ext.callPlugins('shop', 'work', 5, { parallel: true });
    expect(results.map((r) => [r.state, r.data])).toEqual([
      ['ok', 10],
      ['ok', 6],
    ]);
    const after = plugin(ext, 'gamma');
    expect(after.ok).toBe(before.ok + 1);
    expect(after.exit).toBe(before.exit);
    expect(row(ext, 'gamma')).toEqual([expect.objectContaining({ kind: 'remote', status: 'up', plugins: 2, restarts: 1 })]);
    expect(ext.report({ point: 'shop/work', all: true }).plugins.length).toBe(2);
  });

  it('a node whose heartbeats stop (SIGSTOP, as in a partition) goes down; it comes back up as the same run', async () => {
    process.kill(gamma.pid, 'SIGSTOP');
    try {
      await until('gamma down', () => row(ext, 'gamma')[0]?.status === 'down');
      const [r] = await ext.callPlugins('shop', 'work', 1);
      expect(isExtpointError(r!.data, 'ENODEDOWN')).toBe(true);
      expect(row(ext, 'gamma')[0]!.lastReasons.at(-1)).toMatch(/^no heartbeat for \d+ ms \(more than 3 x 100 ms\)$/);
    } finally {
      process.kill(gamma.pid, 'SIGCONT');
    }
    await until('gamma up', () => row(ext, 'gamma')[0]?.status === 'up');
    expect((await ext.callPlugins('shop', 'work', 1))[0]).toMatchObject({ state: 'ok', data: 2 });
    expect(row(ext, 'gamma')[0]!.restarts).toBe(1); // the kill -9 above; a pause is no restart
  });

  it('a restart of nats-server: the host and the node reconnect by themselves', async () => {
    await nats.restart();
    await until('a call answers again', async () => (await ext.callPlugins('shop', 'work', 1))[0]!.state === 'ok', 15_000);
    expect(row(ext, 'gamma')).toEqual([expect.objectContaining({ status: 'up', plugins: 2 })]);
    await gamma.stop();
  });

  it('a server with token auth refuses a node or host without credentials, with a clear error', async () => {
    const secured = await server('s3cret');
    const args = ['--nats', secured.url, '--name', 'delta', '--plugins', dir, '--heartbeat-ms', '100'];
    const refused = await startNodeProcess(args).catch((e: { code: unknown; output: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { output: string }).output).toMatch(/cannot connect to NATS .*refused the credentials: give cluster.token \(or --token\)/);
    const refusedHost = createExtension({ scanLoaded: false, cluster: { servers: secured.url } });
    await expect(refusedHost.start()).rejects.toThrow(/refused the credentials/);
    await expect(refusedHost.start()).rejects.toThrow(/refused the credentials/);
    const delta = await startNodeProcess([...args, '--token', 's3cret']);
    const ext2 = await host(secured.url, 's3cret');
    await until('delta up', () => row(ext2, 'delta')[0]?.status === 'up');
    expect((await ext2.callPlugins('shop', 'work', 4))[0]).toMatchObject({ state: 'ok', data: 8, info: { node: 'delta' } });
    await delta.stop();
  });

  it('refuses bad cluster options and node names with errors that say what would do', async () => {
    expect(() => createExtension({ cluster: { servers: 'http://x' } })).toThrow(/cluster\.servers must be a NATS URL/);
    expect(() => createExtension({ clusters: {} } as never)).toThrow(/cluster/);
    const { serveNode } = await import('../src/index.js');
    await expect(serveNode({ servers: 'nats://127.0.0.1:1', name: 'a.b', pluginDirs: [dir] })).rejects.toThrow(/NATS subject token/);
    await expect(serveNode({ servers: 'nats://127.0.0.1:1', name: 'ok', pluginDirs: [] })).rejects.toThrow(/pluginDirs/);
    const cli = join(import.meta.dirname, '../dist/cli.js');
    const usage: Array<[string[], RegExp]> = [
      [['--name', 'a', '--plugins', dir], /missing --nats URL/],
      [['--nats', 'nats://127.0.0.1:1', '--plugins', dir], /missing --name NAME/],
      [['--nats', 'nats://127.0.0.1:1', '--name', 'a'], /missing --plugins DIR/],
      [['--nats', 'nats://127.0.0.1:1', '--name', 'a.b', '--plugins', dir], /NATS subject token/],
      [['--nats', 'nats://127.0.0.1:1', '--name', 'a', '--plugins', dir, '--token', 't', '--creds', 'c'], /--token or --creds, not both/],
    ];
    for (const [args, message] of usage) {
      const out = await runNode([cli, 'node', ...args]);
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toMatch(message);
    }
    const unreachable = await runNode([cli, 'node', '--nats', 'nats://127.0.0.1:1', '--name', 'a', '--plugins', dir]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1.*is nats-server running there\?/);
  });
});
