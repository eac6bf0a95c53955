/**
 * Worker nodes end to end, with real worker threads: a plugin folder on node 'sandbox' registers in the
 * host with `info.node === 'sandbox'`, its plugins run in the worker, and callPlugins, notify, pipe,
 * health and the report work across; stop() ends every worker.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, type Extension, type NodeDirOptions } from '../src/index.js';

let base: string;
let local: string;
let sandbox: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-nodes-'));
  local = join(base, 'plugins');
  sandbox = join(base, 'untrusted');
  await mkdir(local);
  await mkdir(sandbox);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

function make(options: Partial<NodeDirOptions> = {}): Extension {
  ext = createExtension({
    scanLoaded: false,
    watch: false,
    pluginDirs: [local, { path: sandbox, node: 'sandbox', isolation: 'worker', callTimeoutMs: 2000, ...options }],
  });
  return ext;
}

const code = (r: { data: unknown } | undefined) => (r?.data as { code?: string } | undefined)?.code;

const WHERE = `import { isMainThread, threadId } from 'node:worker_threads';\nconst where = isMainThread ? 'main' : 'worker ' + threadId;\n`;

describe('worker nodes', () => {
  it('runs a folder in a worker: results in point order, info.node names the node, notify and pipe cross', async () => {
    await writeFile(join(local, 'near.mjs'), `export function app_hello_Plugin(a) { return 'near ' + a.name; }\n`);
    await writeFile(
      join(sandbox, 'far.mjs'),
      WHERE +
        `export function app_hello_Plugin(a) { return 'far ' + a.name + ' in ' + where; }\n` +
        `let seen = [];\nexport function app_event_Plugin(a) { seen.push(a); }\n` +
        `export function app_seen_Plugin() { return seen; }\n` +
        `export function app_chain_Plugin(s) { return { ...s, n: s.n * 10 }; }\n` +
        `export function app_sync_Plugin() { return 1; }\n`,
    );
    await writeFile(join(local, 'chain.mjs'), `export function app_chain_Plugin(s) { return { ...s, n: s.n + 1 }; }\n`);
    const e = make();
    await e.start();

    const results = await e.callPlugins('app', 'hello', { name: 'x' });
    expect(results.map((r) => [r.state, r.info.node, r.info.module])).toEqual([
      ['ok', 'sandbox', 'far'],
      ['ok', 'local', 'near'],
    ].sort((a, b) => (a[2]! < b[2]! ? -1 : 1)));
    const far = results.find((r) => r.info.node === 'sandbox')!;
    expect(far.data).toMatch(/^far x in worker \d+$/);

    e.notify('app', 'event', { k: 1 });
    e.notify('app', 'event', { k: 2 });
    const seen = await e.callPlugins('app', 'seen');
    expect(seen[0]!.data).toEqual([{ k: 1 }, { k: 2 }]);

    // The chain goes chain (local, +1) then far (worker, *10), in module order.
    expect(await e.pipe('app', 'chain', { n: 1 })).toEqual({ n: 20 });

    // A sync call crosses too, blocking until the worker answers (more in nodes-sync.test.ts).
    const sync = e.callPluginsSync('app', 'sync');
    expect(sync[0]).toMatchObject({ state: 'ok', data: 1, info: { node: 'sandbox' } });

    const report = e.report();
    expect(report.plugins.filter((p) => p.node === 'sandbox').map((p) => p.fn)).toEqual([
      'app_chain_Plugin',
      'app_event_Plugin',
      'app_hello_Plugin',
      'app_seen_Plugin',
      'app_sync_Plugin',
    ]);
    const rows = report.nodes.map(({ node, kind, status, plugins, restarts }) => ({ node, kind, status, plugins, restarts }));
    expect(rows).toEqual([
      { node: 'local', kind: 'local', status: 'up', plugins: 2, restarts: 0 },
      { node: 'sandbox', kind: 'worker', status: 'up', plugins: 5, restarts: 0 },
    ]);
    // crossings: hello, the two notifies (one turn, one message), seen, the pipe (and the sync call's own)
    expect(report.nodes[1]!.calls).toBeGreaterThanOrEqual(4);
    expect(report.nodes[1]!.startedAt).toBeInstanceOf(Date);
    expect(report.text()).toContain('sandbox worker up');
    expect(JSON.parse(JSON.stringify(report)).nodes[1].node).toBe('sandbox');
  });

  it('thrown errors cross with their name, message and code; values that cannot be cloned give EDATACLONE', async () => {
    await writeFile(
      join(sandbox, 'bad.mjs'),
      `export function app_throw_Plugin() { throw Object.assign(new RangeError('too far'), { code: 'EFAR' }); }\n` +
        `export function app_fn_Plugin() { return () => 1; }\n` +
        `export function app_echo_Plugin(a) { return a; }\n` +
        `export function health() { return { status: 'degraded', reason: 'tired' }; }\n`,
    );
    const e = make();
    await e.start();
    const [thrown] = await e.callPlugins('app', 'throw');
    expect(thrown!.state).toBe('EXIT');
    expect(thrown!.data).toBeInstanceOf(Error);
    expect(thrown!.data).toMatchObject({ name: 'RangeError', message: 'too far', code: 'EFAR' });

    const [fn] = await e.callPlugins('app', 'fn');
    expect(fn!.state).toBe('EXIT');
    expect((fn!.data as { code?: string }).code).toBe('EDATACLONE');
    expect((fn!.data as Error).message).toMatch(/^result cannot cross to the host by structured clone/);

    const [arg] = await e.callPlugins('app', 'echo', { list: [1, { f: () => 1 }] });
    expect(arg!.state).toBe('EXIT');
    expect((arg!.data as { code?: string }).code).toBe('EDATACLONE');
    expect((arg!.data as Error).message).toMatch(/^args\.list\[1\]\.f cannot cross to node "sandbox"/);
    const [deep] = await e.callPlugins('app', 'echo', { 'odd key': new Map([['k', new WeakMap()]]) });
    expect((deep!.data as Error).message).toMatch(/^args\["odd key"\]\.get\(<key 0>\) cannot cross/);
    // Calls of one turn cross together; the one that cannot be cloned fails alone.
    const [good, bad] = await Promise.all([e.callPlugins('app', 'echo', 1), e.callPlugins('app', 'echo', Symbol('no'))]);
    expect(good![0]).toMatchObject({ state: 'ok', data: 1 });
    expect(code(bad![0])).toBe('EDATACLONE');
    // The node stays up after clone failures.
    const [echo] = await e.callPlugins('app', 'echo', { ok: [1, 2] });
    expect(echo).toMatchObject({ state: 'ok', data: { ok: [1, 2] } });

    const health = await e.health('app', 'echo');
    expect(JSON.stringify(health)).toContain('tired');
  });

  it('stop() ends every worker and leaves no handle open', async () => {
    await writeFile(join(sandbox, 'far.mjs'), `export function app_hello_Plugin() { return 1; }\n`);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const e = make();
    await e.start();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length).toBeGreaterThan(before);
    await e.stop();
    ext = null;
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length).toBe(before);
    expect(e.report().nodes[1]!.status).toBe('down');
    const [r] = await e.callPlugins('app', 'hello');
    expect((r!.data as { code?: string }).code).toBe('ENODEDOWN');
  });

  it('hot reload inside the worker: a changed file replaces its plugins, a deleted one unloads them', async () => {
    await writeFile(join(sandbox, 'far.mjs'), `export function app_hello_Plugin() { return 'v1'; }\n`);
    ext = createExtension({ scanLoaded: false, watch: true, pluginDirs: [{ path: sandbox, node: 'sandbox', isolation: 'worker' }] });
    const e = ext;
    await e.start();
    expect((await e.callPlugins('app', 'hello'))[0]).toMatchObject({ state: 'ok', data: 'v1' });
    e.disablePlugin('far', 'app', 'other');
    const reloaded = new Promise((resolve) => e.once('reload', resolve));
    await writeFile(join(sandbox, 'far.mjs'), `export function app_hello_Plugin() { return 'v2'; }\nexport function app_other_Plugin() { return 'o'; }\n`);
    expect(await reloaded).toMatchObject({ module: 'far', origin: 'folder' });
    expect((await e.callPlugins('app', 'hello'))[0]).toMatchObject({ state: 'ok', data: 'v2', info: { node: 'sandbox' } });
    // The flag set before the plugin existed waited for it.
    expect(await e.callPlugins('app', 'other')).toEqual([]);
    const unloaded = new Promise((resolve) => e.once('unload', resolve));
    await rm(join(sandbox, 'far.mjs'));
    await unloaded;
    expect(await e.callPlugins('app', 'hello')).toEqual([]);
    expect(e.report().nodes[1]).toMatchObject({ node: 'sandbox', plugins: 0, restarts: 0, status: 'up' });
  });

  it('a plugin disabled before its module first registered on a worker node stays disabled', async () => {
    await writeFile(join(sandbox, 'far.mjs'), `export function app_hello_Plugin() { return 1; }\nexport function app_bye_Plugin() { return 2; }\n`);
    const e = make();
    expect(e.disablePlugin('far', 'app', 'hello')).toBe('pending');
    await e.start();
    expect(await e.callPlugins('app', 'hello')).toEqual([]);
    expect((await e.callPlugins('app', 'bye'))[0]).toMatchObject({ state: 'ok', data: 2 });
    expect(e.enablePlugin('far', 'app', 'hello')).toBe('applied');
    expect((await e.callPlugins('app', 'hello'))[0]).toMatchObject({ state: 'ok', data: 1, info: { node: 'sandbox' } });
  });

  it('a file that fails to load in the worker is a load error in the host, naming the node and the file', async () => {
    await writeFile(join(sandbox, 'broken.mjs'), `export function app_hello_Plugin( { return 1; }\n`);
    await writeFile(join(sandbox, 'fine.mjs'), `export function app_hello_Plugin() { return 'fine'; }\n`);
    const e = make();
    const errors: string[] = [];
    e.on('loadError', (err) => errors.push(`${err.file}: ${err.message}`));
    await e.start();
    expect(errors.length).toBe(1);
    expect(errors[0]).toContain(join(sandbox, 'broken.mjs'));
    expect(errors[0]).toMatch(/node "sandbox": /);
    expect((await e.callPlugins('app', 'hello')).map((r) => r.data)).toEqual(['fine']);
  });

  it('a host without worker nodes starts no worker and reports only its own node', async () => {
    await writeFile(join(local, 'near.mjs'), `export function app_hello_Plugin() { return 1; }\n`);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: [local] });
    await ext.start();
    await ext.callPlugins('app', 'hello');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length).toBe(before);
    expect(ext.report().nodes).toMatchObject([{ node: 'local', kind: 'local', status: 'up', plugins: 1, calls: 1 }]);
    expect(ext.report().text()).not.toContain('nodes (');
    await expect(ext.restartNode('sandbox')).rejects.toThrow(/has no worker nodes/);
  });

  it('checks the node options and names the bad one', () => {
    const bad = (entry: object) => () => createExtension({ scanLoaded: false, pluginDirs: [entry as NodeDirOptions] });
    expect(bad({ path: sandbox, node: 'sandbox' })).toThrow(/isolation: 'worker'/);
    expect(bad({ path: sandbox, node: 'local', isolation: 'worker' })).toThrow(/other than the extension's own node "local"/);
    expect(bad({ path: sandbox, node: 'sandbox', isolation: 'worker', callTimeout: 5 })).toThrow(/did you mean "callTimeoutMs"/);
    expect(bad({ path: sandbox, node: 'sandbox', isolation: 'worker', restart: { intensity: -1 } })).toThrow(/restart.intensity/);
  });
});
