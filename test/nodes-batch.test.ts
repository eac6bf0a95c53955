/**
 * Crossings to worker nodes, counted, with real worker threads: a call crosses to each node once however
 * many of its plugins the point has (awaited one after another or not), a pipe once per consecutive run
 * of one node's steps; results come back in the point's order with exact counters. The node row's `calls`
 * counts the messages carrying plugin calls posted to the worker.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, halt, type Extension, type NodeDirOptions, type PluginResult } from '../src/index.js';

let base: string;
let local: string;
let sandbox: string;
let other: string;
let ext: Extension | null = null;
/** Rejections nobody handled while a test ran: there must be none. */
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
  base = await mkdtemp(join(tmpdir(), 'ep-nodes-batch-'));
  local = join(base, 'plugins');
  sandbox = join(base, 'sandbox');
  other = join(base, 'other');
  await Promise.all([mkdir(local), mkdir(sandbox), mkdir(other)]);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function make(withOther = false, options: Partial<NodeDirOptions> = {}): Extension {
  ext = createExtension({
    scanLoaded: false,
    watch: false,
    pluginDirs: [
      local,
      { path: sandbox, node: 'sandbox', isolation: 'worker', callTimeoutMs: 5000, ...options },
      ...(withOther ? [{ path: other, node: 'other', isolation: 'worker' as const, callTimeoutMs: 5000 }] : []),
    ],
  });
  return ext;
}

/** Crossings to `node` so far. */
const crossings = (e: Extension, node = 'sandbox') => e.report().nodes.find((n) => n.node === node)!.calls;
const brief = (rs: PluginResult[]) => rs.map((r) => [r.info.module, r.info.node, r.state, r.state === 'ok' ? r.data : (r.data as Error).message]);

/** `count` plugin files `w0.mjs`, `w1.mjs`, ... of point app.p: plugin i answers n + i, half of them async. */
async function workerPlugins(dir: string, count: number, prefix = 'w'): Promise<void> {
  for (let i = 0; i < count; i++) {
    const body = i % 2 === 0 ? `return a.n + ${i};` : `return new Promise((r) => setTimeout(() => r(a.n + ${i}), 2));`;
    await writeFile(join(dir, `${prefix}${i}.mjs`), `export function app_p_Plugin(a) { ${body} }\n`);
  }
}

describe('crossings to worker nodes', () => {
  it('a call of 10 plugins on one node crosses once, awaited in turn or in parallel, with results in order', async () => {
    await workerPlugins(sandbox, 10);
    const e = make();
    await e.start();
    const before = crossings(e);
    const results = await e.callPlugins('app', 'p', { n: 100 });
    expect(results.map((r) => [r.info.module, r.state, r.data])).toEqual(Array.from({ length: 10 }, (_, i) => [`w${i}`, 'ok', 100 + i]));
    expect(crossings(e)).toBe(before + 1);

    await e.callPlugins('app', 'p', { n: 1 }, { parallel: true });
    expect(crossings(e)).toBe(before + 2);

    // calls made in one turn: the first crosses at once, the others together at the end of the turn
    const three = await Promise.all([1, 2, 3].map((n) => e.callPlugins('app', 'p', { n })));
    expect(three.map((rs) => rs.map((r) => r.data))).toEqual([1, 2, 3].map((n) => Array.from({ length: 10 }, (_, i) => n + i)));
    expect(crossings(e)).toBe(before + 4);
    expect(e.report().plugins.filter((p) => p.node === 'sandbox').map((p) => p.ok)).toEqual(Array(10).fill(5));
  });

  it('64 calls made in one turn cross in two messages; one with arguments that cannot be cloned fails alone', async () => {
    await workerPlugins(sandbox, 4);
    const e = make();
    await e.start();
    const before = crossings(e);
    const many = await Promise.all(Array.from({ length: 64 }, (_, n) => e.callPlugins('app', 'p', { n })));
    expect(many.map((rs) => rs.map((r) => r.data))).toEqual(Array.from({ length: 64 }, (_, n) => [n, n + 1, n + 2, n + 3]));
    expect(crossings(e)).toBe(before + 2);

    const mixed = await Promise.all([{ n: 1 }, { n: 2 }, { n: 3, f: () => 0 }, { n: 4 }].map((a) => e.callPlugins('app', 'p', a)));
    expect(mixed.map((rs) => rs.map((r) => (r.state === 'ok' ? r.data : (r.data as { code?: string }).code)))).toEqual([
      [1, 2, 3, 4],
      [2, 3, 4, 5],
      ['EDATACLONE', 'EDATACLONE', 'EDATACLONE', 'EDATACLONE'],
      [4, 5, 6, 7],
    ]);
    expect((mixed[2]![0]!.data as Error).message).toContain('args.f');
    // the first at once; then the turn's message could not be cloned, so the other three tried alone (two crossed)
    expect(crossings(e)).toBe(before + 5);
    expect(e.report().plugins.map((p) => [p.ok, p.exit])).toEqual(Array(4).fill([67, 1]));
  });

  it('a point on two worker nodes and in-process crosses once to each node, results in the point order', async () => {
    await writeFile(join(local, 'a.mjs'), `export const seen = [];\nexport function app_p_Plugin(x) { return 'a' + x.n; }\n`);
    await writeFile(join(local, 'c.mjs'), `export async function app_p_Plugin(x) { await new Promise((r) => setTimeout(r, 5)); return 'c' + x.n; }\n`);
    await writeFile(join(local, 'e.mjs'), `export function app_p_Plugin(x) { throw new Error('e fails ' + x.n); }\n`);
    await writeFile(join(sandbox, 'b.mjs'), `export function app_p_Plugin(x) { return 'b' + x.n; }\n`);
    await writeFile(join(sandbox, 'd.mjs'), `export function app_p_Plugin(x) { throw new Error('d fails ' + x.n); }\n`);
    await writeFile(join(other, 'f.mjs'), `export async function app_p_Plugin(x) { return 'f' + x.n; }\n`);
    await writeFile(join(other, 'g.mjs'), `export function app_p_Plugin(x) { return 'g' + x.n; }\n`);
    const e = make(true);
    await e.start();
    const before = [crossings(e), crossings(e, 'other')];
    const expected = [
      ['a', 'local', 'ok', 'a7'],
      ['b', 'sandbox', 'ok', 'b7'],
      ['c', 'local', 'ok', 'c7'],
      ['d', 'sandbox', 'EXIT', 'd fails 7'],
      ['e', 'local', 'EXIT', 'e fails 7'],
      ['f', 'other', 'ok', 'f7'],
      ['g', 'other', 'ok', 'g7'],
    ];
    expect(brief(await e.callPlugins('app', 'p', { n: 7 }))).toEqual(expected);
    expect(brief(await e.callPlugins('app', 'p', { n: 7 }, { parallel: true, timeoutMs: 4000 }))).toEqual(expected);
    expect([crossings(e), crossings(e, 'other')]).toEqual([before[0]! + 2, before[1]! + 2]);
    const counts = Object.fromEntries(e.report().plugins.map((p) => [p.module, [p.ok, p.exit]]));
    expect(counts).toEqual({ a: [2, 0], b: [2, 0], c: [2, 0], d: [0, 2], e: [0, 2], f: [2, 0], g: [2, 0] });
  });

  it('a pipe crosses once per consecutive run of one node\'s steps; halts and failures stop it at the right step', async () => {
    // order by module name: a (local), b c (sandbox), d (local), e f (sandbox)
    await writeFile(join(local, 'a.mjs'), `export function app_chain_Plugin(s) { return { ...s, path: s.path + 'a' }; }\n`);
    await writeFile(join(sandbox, 'b.mjs'), `export async function app_chain_Plugin(s) { return { ...s, path: s.path + 'b' }; }\n`);
    await writeFile(
      join(sandbox, 'c.mjs'),
      `export function app_chain_Plugin(s) {\n` +
        `  if (s.stop === 'c') return { [Symbol.for('extpoint.halt')]: { path: s.path + 'c!' } };\n` +
        `  if (s.fail === 'c') throw new Error('c refuses');\n` +
        `  return { ...s, path: s.path + 'c' };\n}\n`,
    );
    await writeFile(join(local, 'd.mjs'), `export function app_chain_Plugin(s) { return { ...s, path: s.path + 'd' }; }\n`);
    await writeFile(join(sandbox, 'e.mjs'), `export function app_chain_Plugin(s) { return { ...s, path: s.path + 'e' }; }\n`);
    await writeFile(join(sandbox, 'f.mjs'), `export function app_chain_Plugin(s) { return { ...s, path: s.path + 'f' }; }\n`);
    const e = make();
    await e.start();
    const counts = () => Object.fromEntries(e.report().plugins.map((p) => [p.module, [p.ok, p.exit]]));
    const before = crossings(e);

    expect(await e.pipe('app', 'chain', { path: '' })).toEqual({ path: 'abcdef' });
    expect(crossings(e)).toBe(before + 2);

    // a halt in the middle of a run: the chain ends there, with the halt's value
    expect(await e.pipe('app', 'chain', { path: '', stop: 'c' })).toEqual({ path: 'abc!' });
    expect(crossings(e)).toBe(before + 3);

    // a failure: the input comes back, the failing step is counted EXIT, the steps before it ok
    const input = { path: '', fail: 'c' };
    expect(await e.pipe('app', 'chain', input)).toBe(input);
    expect(crossings(e)).toBe(before + 4);
    expect(counts()).toEqual({ a: [3, 0], b: [3, 0], c: [2, 1], d: [1, 0], e: [1, 0], f: [1, 0] });

    // options apply to the outcome as in-process: private merged, or the input returned
    expect(await e.pipe('app', 'chain', { path: '' }, { private: { secret: 1 }, timeoutMs: 4000 })).toEqual({ path: 'abcdef', secret: 1 });
    const same = { path: '' };
    expect(await e.pipe('app', 'chain', same, { returnInput: true })).toBe(same);
    expect(halt(1)).toEqual({ [Symbol.for('extpoint.halt')]: 1 });
  });

  it('notify crosses once per turn, in order with the calls that follow', async () => {
    await writeFile(join(sandbox, 'log.mjs'), `const seen = [];\nexport function app_event_Plugin(a) { seen.push(a.k); }\nexport function app_seen_Plugin() { return seen; }\n`);
    await writeFile(join(sandbox, 'log2.mjs'), `export function app_event_Plugin() {}\n`);
    const e = make();
    await e.start();
    const before = crossings(e);
    e.notify('app', 'event', { k: 1 });
    e.notify('app', 'event', { k: 2 });
    const [seen] = await e.callPlugins('app', 'seen');
    expect(seen!.data).toEqual([1, 2]);
    expect(crossings(e)).toBe(before + 2);
  });

  it('arguments that cannot be cloned fail the node\'s plugins with EDATACLONE, in-process ones run; the call does not cross', async () => {
    await writeFile(join(local, 'a.mjs'), `export function app_p_Plugin(x) { return typeof x.cb; }\n`);
    await writeFile(join(sandbox, 'b.mjs'), `export function app_p_Plugin(x) { return 'b'; }\n`);
    await writeFile(join(sandbox, 'c.mjs'), `export function app_p_Plugin(x) { return 'c'; }\n`);
    const e = make();
    await e.start();
    const before = crossings(e);
    const results = await e.callPlugins('app', 'p', { cb: () => 1 });
    expect(results.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : (r.data as { code?: string }).code])).toEqual([
      ['a', 'ok', 'function'],
      ['b', 'EXIT', 'EDATACLONE'],
      ['c', 'EXIT', 'EDATACLONE'],
    ]);
    expect((results[1]!.data as Error).message).toContain('args.cb');
    expect(crossings(e)).toBe(before);
    // a result that cannot be cloned fails that plugin alone
    await writeFile(join(sandbox, 'c.mjs'), `export function app_p_Plugin(x) { return { f() {} }; }\n`);
    await e.restartNode('sandbox');
    const again = await e.callPlugins('app', 'p', { n: 1 });
    expect(again.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : (r.data as { code?: string }).code])).toEqual([
      ['a', 'ok', 'undefined'],
      ['b', 'ok', 'b'],
      ['c', 'EXIT', 'EDATACLONE'],
    ]);
    expect((again[2]!.data as Error).message).toContain('result.f');
  });

  it('an answer the host cannot read (messageerror) answers its call EDATACLONE instead of hanging it', async () => {
    // A value that clones in the worker but that the host cannot rebuild: its clone names a deserializer
    // the host does not have (reached through the clone symbol a net.BlockList carries).
    await writeFile(
      join(sandbox, 'odd.cjs'),
      `const { BlockList } = require('node:net');\n` +
        `const kClone = Object.getOwnPropertySymbols(BlockList.prototype).find((s) => String(s) === 'Symbol(messaging_clone_symbol)');\n` +
        `const odd = () => { const b = new BlockList(); b[kClone] = () => ({ data: {}, deserializeInfo: 'internal/no/such/module:Nope' }); return b; };\n` +
        `exports.app_p_Plugin = (a) => (a.odd ? odd() : 'odd fine');\n` +
        `exports.app_chain_Plugin = (s) => (s.odd ? odd() : s);\n`,
    );
    await writeFile(join(sandbox, 'plain.mjs'), `export function app_p_Plugin() { return 'plain'; }\n`);
    const e = make();
    await e.start();
    const results = await e.callPlugins('app', 'p', { odd: true });
    expect(results.map((r) => [r.info.module, r.state, (r.data as { code?: string }).code])).toEqual([
      ['odd', 'EXIT', 'EDATACLONE'],
      ['plain', 'EXIT', 'EDATACLONE'],
    ]);
    expect((results[0]!.data as Error).message).toMatch(/could not be read in the host/);
    const input = { odd: true };
    expect(await e.pipe('app', 'chain', input)).toBe(input);
    expect(e.report().plugins.find((p) => p.fn === 'app_chain_Plugin')).toMatchObject({ ok: 0, exit: 1 });
    // calls of one turn answered in one message that the host cannot read: each of them EDATACLONE
    const turn = await Promise.all([{ odd: false }, { odd: true }, { odd: false }].map((a) => e.callPlugins('app', 'p', a)));
    expect(turn.map((rs) => rs.map((r) => (r.state === 'ok' ? r.data : (r.data as { code?: string }).code)))).toEqual([
      ['odd fine', 'plain'],
      ['EDATACLONE', 'EDATACLONE'],
      ['EDATACLONE', 'EDATACLONE'],
    ]);
    // the node stays up and answers the next call
    expect((await e.callPlugins('app', 'p', { odd: false })).map((r) => r.data)).toEqual(['odd fine', 'plain']);
    expect(e.report().nodes.find((n) => n.node === 'sandbox')).toMatchObject({ status: 'up', restarts: 0 });
  });

  it('timeoutMs of a call or pipe cuts off a node\'s crossing: its plugins ETIMEOUT, the node stays up', async () => {
    await writeFile(join(local, 'a.mjs'), `export function app_p_Plugin() { return 'a'; }\nexport function app_chain_Plugin(s) { return s + 'a'; }\n`);
    await writeFile(
      join(sandbox, 'slow.mjs'),
      `const later = (v) => new Promise((r) => setTimeout(() => r(v), 400));\n` +
        `export function app_p_Plugin() { return later('slow'); }\nexport function app_chain_Plugin(s) { return later(s + 'slow'); }\n`,
    );
    await writeFile(join(sandbox, 'twin.mjs'), `export function app_p_Plugin() { return 'twin'; }\nexport function app_chain_Plugin(s) { return s + 'twin'; }\n`);
    const e = make();
    await e.start();
    const results = await e.callPlugins('app', 'p', undefined, { timeoutMs: 100 });
    expect(results.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : (r.data as { code?: string }).code])).toEqual([
      ['a', 'ok', 'a'],
      ['slow', 'EXIT', 'ETIMEOUT'],
      ['twin', 'EXIT', 'ETIMEOUT'],
    ]);
    expect(await e.pipe('app', 'chain', '', { timeoutMs: 50 })).toBe('');
    const counts = Object.fromEntries(e.report().plugins.map((p) => [`${p.module}.${p.fn}`, [p.ok, p.exit]]));
    expect(counts).toMatchObject({ 'a.app_chain_Plugin': [1, 0], 'slow.app_chain_Plugin': [0, 1], 'twin.app_chain_Plugin': [0, 0] });
    // without a limit the same calls answer in full, and the node never went down
    expect((await e.callPlugins('app', 'p')).map((r) => r.data)).toEqual(['a', 'slow', 'twin']);
    expect(await e.pipe('app', 'chain', '')).toBe('aslowtwin');
    expect(e.report().nodes.find((n) => n.node === 'sandbox')).toMatchObject({ status: 'up', restarts: 0 });
  });
});
