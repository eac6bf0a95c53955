/**
 * The calling mechanics behind the speed work: calls by name and through a handle reach the same
 * compiled caller; callers stay correct (results and exact counters) across many recompiles of a point
 * (reloads, flag changes, profiling); and a process that forbids code generation from strings
 * (`node --disallow-code-generation-from-strings`) still calls every kind of point correctly, on the
 * closure-built callers. Correctness only: speed is measured by `npm run bench`, never asserted here.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, halt, type Extension, type PluginResult } from '../src/index.js';

const make = (): Extension => createExtension({ scanLoaded: false });

/** What a result says, without its shared info object. */
const brief = (results: PluginResult[]) =>
  results.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : (r.data as Error).message]);

/** The report's ok and exit counts of each plugin on `module`'s `point`, by plugin module. */
function counts(ext: Extension, module: string, point: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const row of ext.report().plugins) {
    if (row.fn === `${module}_${point}_Plugin`) out[row.module] = [row.ok, row.exit];
  }
  return out;
}

/** Three plugins on host.p, the middle one failing on odd inputs; `version` shows in what they return. */
function plugins(version: number) {
  return {
    a: { host_p_Plugin: (x: number) => x + 100 * version },
    b: {
      host_p_Plugin: (x: number) => {
        if (x % 2 === 1) throw new Error(`b${version} refuses ${x}`);
        return -x;
      },
    },
    c: { host_p_Plugin: (x: number) => `c${version}:${x}` },
  };
}

function registerAll(ext: Extension, version: number): void {
  for (const [name, exports] of Object.entries(plugins(version))) ext.registerModule(name, exports);
}

describe('calls by name and through a handle', () => {
  it('give the same results and feed the same counters, for every kind of call', async () => {
    const ext = make();
    ext.registerModule('host', { host_p_Extension: () => null });
    registerAll(ext, 1);
    const point = ext.point('host', 'p');
    const expected = [
      ['a', 'ok', 102],
      ['b', 'ok', -2],
      ['c', 'ok', 'c1:2'],
    ];
    expect(brief(ext.callPluginsSync('host', 'p', 2))).toEqual(expected);
    expect(brief(point.callSync(2))).toEqual(expected);
    expect(brief(await ext.callPlugins('host', 'p', 2))).toEqual(expected);
    expect(brief(await point.call(2))).toEqual(expected);
    expect(brief(ext.callPluginsSync('host', 'p', 3))).toEqual([
      ['a', 'ok', 103],
      ['b', 'EXIT', 'b1 refuses 3'],
      ['c', 'ok', 'c1:3'],
    ]);
    ext.notify('host', 'p', 3);
    point.notify(5);
    expect(counts(ext, 'host', 'p')).toEqual({ a: [7, 0], b: [4, 3], c: [7, 0] });
  });

  it('pipe the same way by name and through a handle', async () => {
    const ext = make();
    ext.registerModule('s1', { host_chain_Plugin: (s: number) => s * 2 });
    ext.registerModule('s2', { host_chain_Plugin: (s: number) => (s > 10 ? halt(s) : s + 1) });
    ext.registerModule('s3', { host_chain_Plugin: (s: number) => s * 10 });
    const chain = ext.point('host', 'chain');
    expect(await ext.pipe('host', 'chain', 1)).toBe(30);
    expect(await chain.pipe(1)).toBe(30);
    expect(await ext.pipe('host', 'chain', 6)).toBe(12);
    expect(await chain.pipe(6)).toBe(12);
  });

  it('by name reaches a point registered after the name was first called, and one created by a handle', () => {
    const ext = make();
    expect(ext.callPluginsSync('late', 'p', 1)).toEqual([]);
    ext.notify('late', 'p', 1);
    ext.registerModule('m', { late_p_Plugin: (x: number) => x + 1 });
    expect(brief(ext.callPluginsSync('late', 'p', 1))).toEqual([['m', 'ok', 2]]);
    const handle = ext.point('early', 'q');
    ext.registerModule('n', { early_q_Plugin: (x: number) => x * 3 });
    expect(brief(ext.callPluginsSync('early', 'q', 2))).toEqual([['n', 'ok', 6]]);
    expect(brief(handle.callSync(2))).toEqual([['n', 'ok', 6]]);
  });

  it('by name keeps two points apart when their names join to the same text', () => {
    // "ab" + "c" and "a" + "bc" are different points; no key made by joining names may confuse them.
    const ext = make();
    ext.registerModule('one', { ab_c_Plugin: () => 'ab/c' });
    ext.registerModule('two', { a_bc_Plugin: () => 'a/bc' });
    for (let i = 0; i < 3; i++) {
      expect(brief(ext.callPluginsSync('ab', 'c'))).toEqual([['one', 'ok', 'ab/c']]);
      expect(brief(ext.callPluginsSync('a', 'bc'))).toEqual([['two', 'ok', 'a/bc']]);
      expect(ext.callPluginsSync('a', 'c')).toEqual([]);
    }
  });
});

describe('callers across many recompiles', () => {
  it('keep results and counters exact through 12 reloads, flag changes and profiling, in one loop', async () => {
    const ext = make();
    ext.registerModule('host', { host_p_Extension: () => null });
    registerAll(ext, 0);
    const point = ext.point('host', 'p');
    const made = { a: 0, b: 0, c: 0 };
    const failed = { b: 0 };
    for (let round = 0; round < 12; round++) {
      // A reload of every plugin module (new code), then of the host; every third round a flag dance,
      // every fourth a profiled stretch.
      registerAll(ext, round + 1);
      ext.registerModule('host', { host_p_Extension: () => round });
      if (round % 3 === 2) {
        ext.disablePlugin('b', 'host', 'p');
        expect(brief(point.callSync(1))).toEqual([
          ['a', 'ok', 100 * (round + 1) + 1],
          ['c', 'ok', `c${round + 1}:1`],
        ]);
        made.a++;
        made.c++;
        ext.enablePlugin('b', 'host', 'p');
      }
      if (round % 4 === 3) ext.profile('host', 'p', true);
      for (let i = 0; i < 20; i++) {
        const x = round * 20 + i;
        const results = i % 4 === 0 ? await point.call(x) : i % 4 === 1 ? ext.callPluginsSync('host', 'p', x) : point.callSync(x);
        expect(brief(results)).toEqual([
          ['a', 'ok', x + 100 * (round + 1)],
          x % 2 === 1 ? ['b', 'EXIT', `b${round + 1} refuses ${x}`] : ['b', 'ok', -x],
          ['c', 'ok', `c${round + 1}:${x}`],
        ]);
        if (i % 5 === 0) {
          ext.notify('host', 'p', x);
          point.notify(x);
          made.a += 2;
          made.b += 2;
          made.c += 2;
          if (x % 2 === 1) failed.b += 2;
        }
        made.a++;
        made.b++;
        made.c++;
        if (x % 2 === 1) failed.b++;
      }
      if (round % 4 === 3) ext.profile('host', 'p', false);
    }
    expect(counts(ext, 'host', 'p')).toEqual({
      a: [made.a, 0],
      b: [made.b - failed.b, failed.b],
      c: [made.c, 0],
    });
    const row = ext.report().points.find((p) => p.fn === 'host_p_Extension')!;
    expect([row.ok, row.exit]).toEqual([made.a + made.b + made.c - failed.b, failed.b]);
  });

  it('a handle taken before a point is disabled and enabled again calls the current plugins', () => {
    const ext = make();
    const point = ext.point('host', 'p');
    registerAll(ext, 1);
    expect(point.callSync(2).length).toBe(3);
    for (let i = 0; i < 10; i++) {
      ext.disablePoint('host', 'p');
      expect(point.callSync(2)).toEqual([]);
      ext.enablePoint('host', 'p');
      expect(brief(point.callSync(2))).toEqual([
        ['a', 'ok', 102],
        ['b', 'ok', -2],
        ['c', 'ok', 'c1:2'],
      ]);
    }
    expect(counts(ext, 'host', 'p')).toEqual({ a: [11, 0], b: [11, 0], c: [11, 0] });
  });
});

/** Runs `source` as an ES module in a child `node` with `flags`; resolves to its exit code and output. */
function runChild(flags: string[], source: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'extpoint-nocodegen-'));
  const file = path.join(dir, 'child.mjs');
  writeFileSync(file, source);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The child: every kind of call on a small point, a point over the generated-code size, a profiled one,
 * and after reloads; it prints what it saw as JSON. Written without eval or new Function itself.
 */
const childSource = (indexUrl: string) => `
import { createExtension, halt } from ${JSON.stringify(indexUrl)};
let codegen = 'allowed';
try { new Function('return 1'); } catch { codegen = 'refused'; }
const ext = createExtension({ scanLoaded: false });
const brief = (rs) => rs.map((r) => [r.info.module, r.state, r.state === 'ok' ? r.data : String(r.data && r.data.message)]);
const out = { codegen };
ext.registerModule('a', { host_p_Plugin: (x) => x + 1, host_chain_Plugin: (s) => s * 2 });
ext.registerModule('b', { host_p_Plugin: (x) => { if (x % 2) throw new Error('odd ' + x); return -x; }, host_chain_Plugin: (s) => (s > 10 ? halt(s) : s + 1) });
const point = ext.point('host', 'p');
// Notified before the async plugin arrives: how a notified async plugin counts is another matter.
ext.notify('host', 'p', 4);
point.notify(5);
ext.registerModule('c', { host_p_Plugin: async (x) => 'async ' + x, host_chain_Plugin: async (s) => s * 10 });
out.sync = brief(ext.callPluginsSync('host', 'p', 2));
out.syncOdd = brief(point.callSync(3));
out.call = brief(await ext.callPlugins('host', 'p', 6));
out.callParallel = brief(await point.call(7, { parallel: true, timeoutMs: 1000 }));
out.pipe = [await ext.pipe('host', 'chain', 1), await ext.point('host', 'chain').pipe(6)];
for (let i = 0; i < 40; i++) ext.registerModule('many' + String(i).padStart(2, '0'), { host_many_Plugin: (x) => x + i });
const many = ext.callPluginsSync('host', 'many', 1);
out.many = [many.length, many[0].data, many[39].data];
ext.profile('host', 'p', true);
out.profiled = brief(point.callSync(8));
ext.profile('host', 'p', false);
for (let v = 1; v <= 10; v++) ext.registerModule('a', { host_p_Plugin: (x) => x + 1000 * v });
out.reloaded = brief(point.callSync(2));
ext.disablePlugin('b', 'host', 'p');
out.disabled = brief(ext.callPluginsSync('host', 'p', 2));
ext.enablePlugin('b', 'host', 'p');
out.counts = ext.report().plugins.filter((r) => r.fn === 'host_p_Plugin').map((r) => [r.module, r.ok, r.exit]);
console.log(JSON.stringify(out));
`;

describe('under node --disallow-code-generation-from-strings', () => {
  it('every kind of call still answers correctly, with exact counters', async () => {
    const indexUrl = pathToFileURL(path.resolve('dist/index.js')).href;
    const { code, stdout, stderr } = await runChild(['--disallow-code-generation-from-strings'], childSource(indexUrl));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out.codegen).toBe('refused');
    const easync = 'plugin c.host_p_Plugin returned a promise to a synchronous call; call the point with callPlugins (or point().call) to await async plugins';
    expect(out.sync).toEqual([
      ['a', 'ok', 3],
      ['b', 'ok', -2],
      ['c', 'EXIT', easync],
    ]);
    expect(out.syncOdd).toEqual([
      ['a', 'ok', 4],
      ['b', 'EXIT', 'odd 3'],
      ['c', 'EXIT', easync],
    ]);
    expect(out.call).toEqual([
      ['a', 'ok', 7],
      ['b', 'ok', -6],
      ['c', 'ok', 'async 6'],
    ]);
    expect(out.callParallel).toEqual([
      ['a', 'ok', 8],
      ['b', 'EXIT', 'odd 7'],
      ['c', 'ok', 'async 7'],
    ]);
    expect(out.pipe).toEqual([30, 12]);
    expect(out.many).toEqual([40, 1, 40]);
    expect(out.profiled).toEqual([
      ['a', 'ok', 9],
      ['b', 'ok', -8],
      ['c', 'EXIT', easync],
    ]);
    expect(out.reloaded).toEqual([
      ['a', 'ok', 10002],
      ['b', 'ok', -2],
      ['c', 'EXIT', easync],
    ]);
    expect(out.disabled).toEqual([
      ['a', 'ok', 10002],
      ['c', 'EXIT', easync],
    ]);
    // a: 9 calls, all ok. b: 8 calls (not the disabled one), odd inputs 3, 5, 7 failed.
    // c: 7 calls; ok for the two awaited ones, the five sync ones are EASYNC exits.
    expect(out.counts).toEqual([
      ['a', 9, 0],
      ['b', 5, 3],
      ['c', 2, 5],
    ]);
  });

  it('the same child without the flag gives the very same answers', async () => {
    const indexUrl = pathToFileURL(path.resolve('dist/index.js')).href;
    const plain = await runChild([], childSource(indexUrl));
    const strict = await runChild(['--disallow-code-generation-from-strings'], childSource(indexUrl));
    expect(plain.code).toBe(0);
    const a = JSON.parse(plain.stdout) as Record<string, unknown>;
    const b = JSON.parse(strict.stdout || '{}') as Record<string, unknown>;
    expect(a.codegen).toBe('allowed');
    delete a.codegen;
    delete b.codegen;
    expect(b).toEqual(a);
  });
});
