/**
 * callPluginsSync into worker nodes, with real worker threads: the host blocks in Atomics.wait on the
 * node's sync channel; results come back in the point's order with local plugins mixed in, one crossing
 * per node per call; faults (a loop past callTimeoutMs, process.exit) give EXIT results and a restart,
 * never a hung or crashed host; what cannot be cloned gives EDATACLONE with its path. Events are awaited,
 * never slept for.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, EASYNC, isExtpointError, type Extension, type NodeDirOptions, type NodeEvent, type PluginResult } from '../src/index.js';
import { noUnhandledRejections } from './helpers/unhandled.js';

let base: string;
let local: string;
let sandbox: string;
let second: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-nodes-sync-'));
  local = join(base, 'plugins');
  sandbox = join(base, 'untrusted');
  second = join(base, 'second');
  await Promise.all([mkdir(local), mkdir(sandbox), mkdir(second)]);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

function make(options: Partial<NodeDirOptions> = {}, withSecond = false): Extension {
  const dirs: (string | NodeDirOptions)[] = [local, { path: sandbox, node: 'sandbox', isolation: 'worker', callTimeoutMs: 2000, ...options }];
  if (withSecond) dirs.push({ path: second, node: 'second', isolation: 'worker', callTimeoutMs: 2000 });
  ext = createExtension({ scanLoaded: false, watch: false, pluginDirs: dirs });
  return ext;
}

function next(e: Extension, event: 'nodeUp' | 'nodeDown', timeoutMs = 15_000): Promise<NodeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms: ${JSON.stringify(e.report().nodes)}`)), timeoutMs);
    e.once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

const code = (r: PluginResult | undefined) => (r?.data as { code?: string } | undefined)?.code;
const message = (r: PluginResult | undefined) => String((r?.data as { message?: string } | undefined)?.message);
const nodeRow = (e: Extension, node: string) => e.report().nodes.find((n) => n.node === node)!;
const pluginRow = (e: Extension, module: string, fn: string) => e.report().plugins.find((p) => p.module === module && p.fn === fn)!;

const WHERE = `import { isMainThread, threadId } from 'node:worker_threads';\nconst where = isMainThread ? 'main' : 'worker ' + threadId;\n`;

describe('sync calls into worker nodes', () => {
  it('answer synchronously from the worker: values, thrown errors with their code, and EASYNC as in process', async () => {
    await writeFile(
      join(sandbox, 'far.mjs'),
      WHERE +
        `export function app_where_Plugin(a) { return { where, got: a }; }\n` +
        `export function app_fail_Plugin() { throw Object.assign(new RangeError('no such thing'), { code: 'ENOTHING' }); }\n` +
        `export async function app_later_Plugin() { return 1; }\n` +
        `export function app_rejects_Plugin() { return Promise.reject(new Error('silenced in the worker')); }\n` +
        `export function app_odd_Plugin() { throw 42; }\n`,
    );
    await writeFile(join(local, 'near.mjs'), `export async function app_later_Plugin() { return 2; }\n`);
    const e = make();
    await e.start();

    const [r] = e.callPluginsSync('app', 'where', { n: 1, list: [1, 2], when: new Date(0) });
    expect(r).toMatchObject({ state: 'ok', info: { node: 'sandbox', module: 'far', fn: 'app_where_Plugin' } });
    const data = r!.data as { where: string; got: { n: number; list: number[]; when: Date } };
    expect(data.where).toMatch(/^worker \d+$/);
    expect(data.got).toEqual({ n: 1, list: [1, 2], when: new Date(0) });

    const [fail] = e.callPluginsSync('app', 'fail');
    expect(fail!.state).toBe('EXIT');
    expect(fail!.data).toBeInstanceOf(Error);
    expect(fail!.data).toMatchObject({ name: 'RangeError', message: 'no such thing', code: 'ENOTHING' });
    expect(e.callPluginsSync('app', 'odd')[0]).toMatchObject({ state: 'EXIT', data: 42 });

    // An async plugin in a sync call: EXIT EASYNC, on the worker as in process, each naming its plugin.
    await noUnhandledRejections(async () => {
      const later = e.callPluginsSync('app', 'later');
      expect(later.map((x) => [x.info.node, x.state, code(x)])).toEqual([
        ['sandbox', 'EXIT', EASYNC],
        ['local', 'EXIT', EASYNC],
      ]);
      for (const x of later) expect(isExtpointError(x.data, EASYNC)).toBe(true);
      expect(message(later[0])).toBe(message(later[1]).replace('near.app_later_Plugin', 'far.app_later_Plugin'));
      // a rejected promise in the worker is silenced as in process: the node stays up
      expect(code(e.callPluginsSync('app', 'rejects')[0])).toBe(EASYNC);
      expect(e.callPluginsSync('app', 'where', 1)[0]!.state).toBe('ok');
    });
    expect(nodeRow(e, 'sandbox')).toMatchObject({ status: 'up', restarts: 0 });
  });

  it('keeps the point order across local and worker plugins, one crossing per node per call, counters exact', async () => {
    // call order is by module name here: a (local), b (sandbox), c (local), d (sandbox), e (second)
    const mark = (name: string) => `export function app_order_Plugin(a) { return '${name}:' + a.tag; }\n`;
    await writeFile(join(local, 'a.mjs'), mark('a'));
    await writeFile(join(sandbox, 'b.mjs'), mark('b'));
    await writeFile(join(local, 'c.mjs'), mark('c'));
    await writeFile(join(sandbox, 'd.mjs'), `export function app_order_Plugin(a) { if (a.tag === 'bad') throw new Error('d refuses'); return 'd:' + a.tag; }\n`);
    await writeFile(join(second, 'e.mjs'), mark('e'));
    const e = make({}, true);
    await e.start();
    const before = { sandbox: nodeRow(e, 'sandbox').calls, second: nodeRow(e, 'second').calls };

    const results = e.callPluginsSync('app', 'order', { tag: 'x' });
    expect(results.map((r) => [r.info.module, r.info.node, r.state, r.data])).toEqual([
      ['a', 'local', 'ok', 'a:x'],
      ['b', 'sandbox', 'ok', 'b:x'],
      ['c', 'local', 'ok', 'c:x'],
      ['d', 'sandbox', 'ok', 'd:x'],
      ['e', 'second', 'ok', 'e:x'],
    ]);
    const bad = e.callPluginsSync('app', 'order', { tag: 'bad' });
    expect(bad.map((r) => r.state)).toEqual(['ok', 'ok', 'ok', 'EXIT', 'ok']);
    expect(message(bad[3])).toBe('d refuses');
    for (let i = 0; i < 8; i++) e.callPluginsSync('app', 'order', { tag: i });

    // ten calls: each crossed once to each worker node, however many of its plugins the point has
    expect(nodeRow(e, 'sandbox').calls - before.sandbox).toBe(10);
    expect(nodeRow(e, 'second').calls - before.second).toBe(10);
    for (const m of ['a', 'b', 'c', 'e']) expect(pluginRow(e, m, 'app_order_Plugin')).toMatchObject({ ok: 10, exit: 0 });
    expect(pluginRow(e, 'd', 'app_order_Plugin')).toMatchObject({ ok: 9, exit: 1 });

    // a disabled worker plugin is left out of the crossing and of the results
    expect(e.disablePlugin('b', 'app', 'order')).toBe('applied');
    expect(e.callPluginsSync('app', 'order', { tag: 'y' }).map((r) => r.data)).toEqual(['a:y', 'c:y', 'd:y', 'e:y']);
    expect(pluginRow(e, 'b', 'app_order_Plugin')).toMatchObject({ ok: 10, exit: 0 });
    expect(e.enablePlugin('b', 'app', 'order')).toBe('applied');
    expect(e.callPluginsSync('app', 'order', { tag: 'z' }).map((r) => r.data)).toEqual(['a:z', 'b:z', 'c:z', 'd:z', 'e:z']);
    // a disabled point gives no results and does not cross
    const calls = nodeRow(e, 'sandbox').calls;
    expect(e.disablePoint('app', 'order')).toBe('applied');
    expect(e.callPluginsSync('app', 'order', { tag: 'off' })).toEqual([]);
    expect(nodeRow(e, 'sandbox').calls).toBe(calls);
  });

  it('a plugin that loops forever in a sync call: ETIMEOUT for the node\'s plugins, the worker restarts and answers again', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'spin.mjs'), `export function app_spin_Plugin() { for (;;) {} }\nexport function app_ok_Plugin() { return 'fine'; }\n`);
      await writeFile(join(sandbox, 'tail.mjs'), `export function app_spin_Plugin() { return 'never reached'; }\n`);
      await writeFile(join(local, 'near.mjs'), `export function app_spin_Plugin() { return 'near'; }\n`);
      const e = make({ callTimeoutMs: 300 });
      await e.start();
      const down = next(e, 'nodeDown');
      const up = next(e, 'nodeUp');
      const results = e.callPluginsSync('app', 'spin');
      expect(results.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : code(r)])).toEqual([
        ['near', 'ok', 'near'],
        ['spin', 'EXIT', 'ETIMEOUT'],
        ['tail', 'EXIT', 'ETIMEOUT'],
      ]);
      expect(message(results[1])).toContain('callTimeoutMs (300 ms)');
      expect(await down).toMatchObject({ node: 'sandbox', status: 'restarting' });
      expect((await down).reason).toContain('sync call did not answer within callTimeoutMs (300 ms)');
      await up;
      expect(e.callPluginsSync('app', 'ok')[0]).toMatchObject({ state: 'ok', data: 'fine', info: { node: 'sandbox' } });
      expect(nodeRow(e, 'sandbox')).toMatchObject({ status: 'up', restarts: 1 });
      expect(pluginRow(e, 'spin', 'app_spin_Plugin')).toMatchObject({ ok: 0, exit: 1 });
      expect(pluginRow(e, 'near', 'app_spin_Plugin')).toMatchObject({ ok: 1, exit: 0 });
    }));

  it('process.exit in a sync call: ENODEDOWN with the exit code, async calls in flight too, then a restart', () =>
    noUnhandledRejections(async () => {
      await writeFile(
        join(sandbox, 'f.mjs'),
        `export function app_exit_Plugin() { process.exit(7); }\nexport function app_ok_Plugin() { return 'fine'; }\n` +
          `export function app_slow_Plugin() { return new Promise((r) => setTimeout(() => r('late'), 10_000)); }\n`,
      );
      const e = make();
      await e.start();
      const inFlight = e.callPlugins('app', 'slow');
      const up = next(e, 'nodeUp');
      const [r] = e.callPluginsSync('app', 'exit');
      expect(code(r)).toBe('ENODEDOWN');
      expect(message(r)).toContain('exited with code 7 during a sync call');
      expect(code((await inFlight)[0])).toBe('ENODEDOWN');
      // while it restarts, sync calls answer ENODEDOWN at once
      expect(code(e.callPluginsSync('app', 'ok')[0])).toBe('ENODEDOWN');
      await up;
      expect(e.callPluginsSync('app', 'ok')[0]).toMatchObject({ state: 'ok', data: 'fine' });
      expect(nodeRow(e, 'sandbox').restarts).toBe(1);
      expect(nodeRow(e, 'sandbox').lastReasons).toEqual(['the worker exited with code 7 during a sync call']);
      expect(pluginRow(e, 'f', 'app_ok_Plugin')).toMatchObject({ ok: 1, exit: 1 });
    }));

  it('what cannot be cloned gives EDATACLONE with its path: arguments for each of the node\'s plugins, a result for its plugin', async () => {
    await writeFile(join(sandbox, 'p.mjs'), `export function app_echo_Plugin(a) { return a; }\nexport function app_give_Plugin(a) { return a === 'fn' ? { deep: [0, { f() {} }] } : 'plain'; }\n`);
    await writeFile(join(sandbox, 'q.mjs'), `export function app_echo_Plugin(a) { return 'q'; }\nexport function app_give_Plugin() { return 'q'; }\n`);
    await writeFile(join(sandbox, 'r.mjs'), `export function app_give_Plugin(a) { if (a === 'fn') throw { why: Symbol('x') }; return 'r'; }\n`);
    await writeFile(join(local, 'near.mjs'), `export function app_echo_Plugin(a) { return typeof a.cb; }\n`);
    const e = make();
    await e.start();

    const echo = e.callPluginsSync('app', 'echo', { cb: () => 1 });
    expect(echo.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : code(r)])).toEqual([
      ['near', 'ok', 'function'],
      ['p', 'EXIT', 'EDATACLONE'],
      ['q', 'EXIT', 'EDATACLONE'],
    ]);
    expect(message(echo[1])).toContain('args.cb cannot cross to node "sandbox"');

    const give = e.callPluginsSync('app', 'give', 'fn');
    expect(give.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : code(r)])).toEqual([
      ['p', 'EXIT', 'EDATACLONE'],
      ['q', 'ok', 'q'],
      ['r', 'EXIT', 'EDATACLONE'],
    ]);
    expect(message(give[0])).toContain('result.deep[1].f cannot cross to the host');
    expect(message(give[2])).toContain('thrown value.why cannot cross to the host');
    // the node is unharmed, and the same batch crosses again
    expect(e.callPluginsSync('app', 'give', 'x').map((r) => r.data)).toEqual(['plain', 'q', 'r']);
    expect(e.callPluginsSync('app', 'echo', { cb: 1 }).map((r) => r.data)).toEqual(['number', { cb: 1 }, 'q']);
    expect(pluginRow(e, 'p', 'app_give_Plugin')).toMatchObject({ ok: 1, exit: 1 });
    expect(pluginRow(e, 'q', 'app_echo_Plugin')).toMatchObject({ ok: 1, exit: 1 });
    expect(nodeRow(e, 'sandbox')).toMatchObject({ status: 'up', restarts: 0 });
  });

  it('a node given up on answers sync calls ENODEDOWN at once; restartNode brings it back', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'f.mjs'), `export function app_exit_Plugin() { process.exit(1); }\nexport function app_ok_Plugin() { return 'fine'; }\n`);
      const e = make({ restart: { intensity: 0, periodMs: 60_000 } });
      await e.start();
      expect(code(e.callPluginsSync('app', 'exit')[0])).toBe('ENODEDOWN');
      expect(nodeRow(e, 'sandbox').status).toBe('down');
      const [r] = e.callPluginsSync('app', 'ok');
      expect(code(r)).toBe('ENODEDOWN');
      expect(message(r)).toContain('is down');
      await e.restartNode('sandbox');
      expect(e.callPluginsSync('app', 'ok')[0]).toMatchObject({ state: 'ok', data: 'fine' });
    }));

  it('hot reload in the worker: the same batch crosses on and runs the new version; a profiled point times each plugin', async () => {
    await writeFile(join(sandbox, 'far.mjs'), `export function app_hello_Plugin() { return 'v1'; }\n`);
    await writeFile(join(sandbox, 'other.mjs'), `export function app_hello_Plugin() { return 'o1'; }\n`);
    ext = createExtension({ scanLoaded: false, watch: true, pluginDirs: [{ path: sandbox, node: 'sandbox', isolation: 'worker' }] });
    const e = ext;
    await e.start();
    expect(e.callPluginsSync('app', 'hello').map((r) => r.data)).toEqual(['v1', 'o1']);
    const reloaded = new Promise((resolve) => e.once('reload', resolve));
    await writeFile(join(sandbox, 'far.mjs'), `export function app_hello_Plugin() { return 'v2'; }\n`);
    await reloaded;
    expect(e.callPluginsSync('app', 'hello').map((r) => r.data)).toEqual(['v2', 'o1']);
    const unloaded = new Promise((resolve) => e.once('unload', resolve));
    await rm(join(sandbox, 'other.mjs'));
    await unloaded;
    expect(e.callPluginsSync('app', 'hello').map((r) => [r.info.module, r.data])).toEqual([['far', 'v2']]);

    e.profile('app', 'hello');
    for (let i = 0; i < 3; i++) e.callPluginsSync('app', 'hello');
    const row = pluginRow(e, 'far', 'app_hello_Plugin');
    expect(row.profile?.count).toBe(3);
    expect(row).toMatchObject({ ok: 6, exit: 0 });
  });
});
