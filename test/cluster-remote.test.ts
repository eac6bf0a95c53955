/**
 * Remote plugin nodes end to end: a real nats-server, real `extpoint node` processes, two hosts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { createExtension, type Extension } from '../src/index.js';
import { isExtpointError } from '../src/core/errors.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { killAllNodes, startNodeProcess, until, type NodeProcess } from './helpers/node-process.js';

const ALPHA = `
export function shop_price_Plugin(x) { return { node: 'alpha', x }; }
shop_price_Plugin.priority = 20;
export function shop_echo_Plugin(v) { return v; }
export function shop_slow_Plugin() { return new Promise((r) => setTimeout(() => r('late'), 3000)); }
export function shop_fn_Plugin() { return { ok: 1, later: () => 2 }; }
export function shop_throw_Plugin() { throw Object.assign(new RangeError('too far'), { code: 'E_FAR' }); }
export function health() { return { status: 'degraded', reason: 'disk ' + 91 + '%' }; }
`;
const BETA = `
export function shop_price_Plugin(x) { return { node: 'beta', x }; }
shop_price_Plugin.priority = 40;
`;

let server: NatsServer;
const dirs: string[] = [];
const hosts: Extension[] = [];
let alpha: NodeProcess;
let beta: NodeProcess;
let alphaDir: string;

function folder(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ep-remote-')));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function host(node: string): Promise<Extension> {
  const ext = createExtension({ node, scanLoaded: false, cluster: { servers: server.url, callTimeoutMs: 500, heartbeatMs: 100 } });
  hosts.push(ext);
  // A local plugin between the two remote ones: results must come in the point's order.
  ext.registerModule('localmod', { shop_price_Plugin: Object.assign((x: unknown) => ({ node: 'local', x }), { priority: 30 }) });
  await ext.start();
  return ext;
}

const remoteRows = (ext: Extension) => ext.report().nodes.filter((n) => n.kind === 'remote');

beforeAll(async () => {
  server = await startNatsServer();
  alphaDir = folder({ 'alpha.mjs': ALPHA });
  const common = ['--nats', server.url, '--heartbeat-ms', '100'];
  [alpha, beta] = await Promise.all([
    startNodeProcess([...common, '--name', 'alpha', '--plugins', alphaDir]),
    startNodeProcess([...common, '--name', 'beta', '--plugins', folder({ 'beta.mjs': BETA })]),
  ]);
});

afterAll(async () => {
  for (const ext of hosts) await ext.stop();
  await killAllNodes();
  await server?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('remote plugin nodes', () => {
  let h1: Extension;
  let h2: Extension;

  it('two hosts see both nodes; results come in the point order, with info.node', async () => {
    [h1, h2] = await Promise.all([host('h1'), host('h2')]);
    for (const h of [h1, h2]) await until('both nodes registered', () => remoteRows(h).filter((r) => r.status === 'up').length === 2);
    for (const [h, local] of [[h1, 'h1'], [h2, 'h2']] as const) {
      const results = await h.callPlugins('shop', 'price', { cents: 999 }, { parallel: true });
      expect(results.map((r) => [r.state, r.info.node, (r.data as { node: string }).node])).toEqual([
        ['ok', 'alpha', 'alpha'],
        ['ok', local, 'local'],
        ['ok', 'beta', 'beta'],
      ]);
      expect(results[0]!.data).toEqual({ node: 'alpha', x: { cents: 999 } });
      const rows = remoteRows(h).map(({ node, kind, status, plugins }) => ({ node, kind, status, plugins })).sort((a, b) => a.node.localeCompare(b.node));
      expect(rows).toEqual([
        { node: 'alpha', kind: 'remote', status: 'up', plugins: 5 },
        { node: 'beta', kind: 'remote', status: 'up', plugins: 1 },
      ]);
    }
    expect(h1.report().text()).toMatch(/alpha remote up/);
    // restartNode on a remote node asks it for its announcement again: nothing changes, nothing doubles.
    await h1.restartNode('alpha');
    expect(remoteRows(h1).filter((r) => r.node === 'alpha')).toEqual([expect.objectContaining({ status: 'up', plugins: 5, restarts: 0 })]);
  });

  it('pipe, notify and health reach remote plugins', async () => {
    expect(await h1.pipe('shop', 'echo', { n: 1, at: new Date(5) })).toEqual({ n: 1, at: new Date(5) });
    const health = await h1.health('shop', 'echo');
    expect(health.modules).toEqual([expect.objectContaining({ module: 'alpha', status: 'degraded', reason: 'disk 91%' })]);
    const before = h1.report({ point: 'shop/echo' }).plugins[0]!.ok;
    h1.notify('shop', 'echo', 1);
    await until('the notify counted', () => h1.report({ point: 'shop/echo' }).plugins[0]!.ok === before + 1);
  });

  it('arguments and results cross through the codec; a thrown error comes back with its name and code', async () => {
    const value = { u: undefined, at: new Date(0), list: [1, null], map: new Map([['a', 1]]) };
    const [echo] = await h1.callPlugins('shop', 'echo', value);
    expect(echo!.state).toBe('ok');
    expect(echo!.data).toEqual(value);
    const [thrown] = await h1.callPlugins('shop', 'throw');
    expect(thrown!.state).toBe('EXIT');
    expect(thrown!.data).toBeInstanceOf(RangeError);
    expect(thrown!.data).toMatchObject({ message: 'too far', code: 'E_FAR' });
  });

  it('EDATACLONE for arguments or results that cannot be encoded, naming the path; the others in the turn still cross', async () => {
    const [bad, good] = await Promise.all([h1.callPlugins('shop', 'echo', { id: 10n }), h1.callPlugins('shop', 'echo', 'fine')]);
    expect(bad![0]!.state).toBe('EXIT');
    expect(isExtpointError(bad![0]!.data, 'EDATACLONE')).toBe(true);
    expect((bad![0]!.data as Error).message).toMatch(/^args\.id cannot cross as JSON: a BigInt/);
    expect(good![0]).toMatchObject({ state: 'ok', data: 'fine' });
    const [fn] = await h1.callPlugins('shop', 'fn');
    expect(isExtpointError(fn!.data, 'EDATACLONE')).toBe(true);
    expect((fn!.data as Error).message).toMatch(/^result\.later cannot cross/);
  });

  it('ETIMEOUT for a node that does not answer within callTimeoutMs; the node stays up', async () => {
    const [slow] = await h1.callPlugins('shop', 'slow');
    expect(slow!.state).toBe('EXIT');
    expect(isExtpointError(slow!.data, 'ETIMEOUT')).toBe(true);
    expect((slow!.data as Error).message).toMatch(/callTimeoutMs \(500 ms\)/);
    expect(remoteRows(h1).find((r) => r.node === 'alpha')!.status).toBe('up');
  });

  it('callPluginsSync gives EASYNC for remote plugins without sending them, and runs the local ones', () => {
    const crossings = () => remoteRows(h1).map((r) => r.calls);
    const before = crossings();
    const results = h1.callPluginsSync('shop', 'price', 1);
    expect(crossings()).toEqual(before);
    expect((results[0]!.data as Error).message).toMatch(/runs on remote node "alpha": a synchronous call cannot wait for the network, so it was not sent/);
    expect(results.map((r) => [r.info.node, r.state])).toEqual([
      ['alpha', 'EXIT'],
      ['h1', 'ok'],
      ['beta', 'EXIT'],
    ]);
    expect(isExtpointError(results[0]!.data, 'EASYNC')).toBe(true);
  });

  it('a flag set on a host applies to its calls of a remote plugin', async () => {
    h1.disablePlugin('beta', 'shop', 'price');
    expect((await h1.callPlugins('shop', 'price', 1)).map((r) => r.info.node)).toEqual(['alpha', 'h1']);
    h1.enablePlugin('beta', 'shop', 'price');
  });

  it('hot reload on a node reaches the hosts', async () => {
    writeFileSync(join(alphaDir, 'extra.mjs'), 'export function shop_extra_Plugin() { return "new"; }\n');
    for (const h of [h1, h2]) await until('the new plugin registered', () => h.report({ point: 'shop/extra' }).plugins.length === 1, 5000);
    expect((await h2.callPlugins('shop', 'extra'))[0]).toMatchObject({ state: 'ok', data: 'new', info: { node: 'alpha' } });
    rmSync(join(alphaDir, 'extra.mjs'));
    await until('the plugin unregistered', () => h1.report({ point: 'shop/extra' }).plugins.length === 0, 5000);
  });

  it('a second node with a name already served is refused, and says so', async () => {
    const second = startNodeProcess(['--nats', server.url, '--name', 'beta', '--plugins', alphaDir]);
    await expect(second).rejects.toMatchObject({ code: 1 });
    await second.catch((e: { output: string }) => expect(e.output).toMatch(/a node named "beta" already serves cluster "extpoint"/));
    expect(remoteRows(h1).find((r) => r.node === 'beta')).toMatchObject({ status: 'up', plugins: 1 });
  });

  it('garbage on every subject is dropped and counted; it never registers a plugin or stops anything', async () => {
    const rogue: NatsConnection = await connect({ servers: server.url });
    try {
      const droppedBefore = h1.report().nodes.find((n) => n.node === 'h1')!.dropped!;
      const alphaBefore = remoteRows(h1).find((r) => r.node === 'alpha')!.dropped!;
      const garbage = [new Uint8Array([0xff, 0, 1]), new TextEncoder().encode('{"v":1'), new TextEncoder().encode('[]'), new TextEncoder().encode('{"v":1,"t":"announce"}')];
      const fake = {
        v: 1, t: 'announce', node: 'ghost', instance: 'x', seq: 1, heartbeatMs: 100, loadErrors: [],
        modules: [{ name: 'ghost', plugins: [{ fn: 'shop_price_Plugin', module: 'shop', point: 'nope', meta: { priority: 1, depends: [] } }], points: [], problems: [], health: false }],
      };
      const subjects = ['announce', 'heartbeat', 'bye'].flatMap((k) => [`extpoint.extpoint.node.alpha.${k}`, `extpoint.extpoint.node.ghost.${k}`]);
      for (const subject of subjects) for (const g of garbage) rogue.publish(subject, g);
      rogue.publish('extpoint.extpoint.node.ghost.announce', new TextEncoder().encode(JSON.stringify(fake)));
      for (const g of garbage) rogue.publish('extpoint.extpoint.discover', g);
      // Requests the node cannot read are refused, and counted on the node.
      const reply = await rogue.request('extpoint.extpoint.node.alpha.call', new TextEncoder().encode('{"v":1,"t":"call","calls":"all"}'), { timeout: 2000 });
      expect(new TextDecoder().decode(reply.data)).toMatch(/"t":"refused"/);
      await rogue.flush();
      const perNode = 3 * garbage.length; // announce, heartbeat and bye on alpha's subjects
      // ... and what alpha itself dropped (the refused request, the garbage on discover), which its heartbeats report.
      const alphaOwn = 1 + garbage.length;
      await until('the garbage counted', () => remoteRows(h1).find((r) => r.node === 'alpha')!.dropped === alphaBefore + perNode + alphaOwn);
      await until('the rest counted on the host', () => h1.report().nodes.find((n) => n.node === 'h1')!.dropped === droppedBefore + 3 * garbage.length + 1);
      expect(h1.report().nodes.some((n) => n.node === 'ghost')).toBe(false);
      expect(h1.report({ point: 'shop/nope' }).plugins).toEqual([]);
      expect((await h1.callPlugins('shop', 'price', 2, { parallel: true })).map((r) => r.state)).toEqual(['ok', 'ok', 'ok']);
    } finally {
      await rogue.close();
    }
  });

  it('a node that closes says bye: its rows stay, down, and its plugins answer ENODEDOWN at once', async () => {
    await beta.stop();
    await until('beta down', () => remoteRows(h2).find((r) => r.node === 'beta')!.status === 'down');
    const results = await h2.callPlugins('shop', 'price', 3, { parallel: true });
    expect(results.map((r) => [r.info.node, r.state])).toEqual([
      ['alpha', 'ok'],
      ['h2', 'ok'],
      ['beta', 'EXIT'],
    ]);
    expect(isExtpointError(results[2]!.data, 'ENODEDOWN')).toBe(true);
    expect(remoteRows(h2).find((r) => r.node === 'beta')).toMatchObject({ plugins: 1, lastReasons: ['the node closed: closed'] });
  });
});
