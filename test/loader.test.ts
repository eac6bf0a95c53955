/**
 * The loader on its own: formats, helpers and their dependency tracking, cycles, failures, invalidation,
 * and (in a child process with `--expose-gc`) that reloads free old versions for both formats.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { Loader } from '../src/modules/loader.js';
import { isModuleSyntaxError } from '../src/modules/module-format.js';

let dir: string;
let loader: Loader;
beforeEach(async () => {
  dir = realpathSync(await mkdtemp(join(tmpdir(), 'ep-loader-')));
  loader = new Loader({ rootOf: (f) => (f.startsWith(dir + '/') ? dir : undefined), permissions: null });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exportsOf = (file: string) => {
  const r = loader.load(file);
  if (!r.ok) throw new Error(r.message);
  return r.exports as Record<string, unknown>;
};

describe('formats', () => {
  it('evaluates CommonJS with the usual wrapper names', async () => {
    const file = join(dir, 'a.cjs');
    await writeFile(file, '#!/usr/bin/env node\nexports.names = [typeof require, typeof module, __filename, __dirname, this === exports];');
    expect(exportsOf(file).names).toEqual(['function', 'object', file, dir, true]);
  });

  it('converts ES modules, in strict mode, with default and named exports', async () => {
    const file = join(dir, 'm.mjs');
    await writeFile(file, 'export default 7; export const strict = (function () { return this === undefined; })();');
    const ex = exportsOf(file);
    expect(ex.default).toBe(7);
    expect(ex.strict).toBe(true);
  });

  it('detects module syntax in a .js file without a package type, as Node does', async () => {
    await writeFile(join(dir, 'e.js'), 'export const x = 1;');
    await writeFile(join(dir, 'c.js'), 'exports.x = 2;');
    expect(exportsOf(join(dir, 'e.js')).x).toBe(1);
    expect(exportsOf(join(dir, 'c.js')).x).toBe(2);
    expect(isModuleSyntaxError(new SyntaxError("Unexpected token 'export'"))).toBe(true);
    expect(isModuleSyntaxError(new SyntaxError('Unexpected end of input'))).toBe(false);
  });

  it('lets dynamic import() reach Node (not reloaded, but working)', async () => {
    await writeFile(join(dir, 'dyn.cjs'), `exports.load = () => import('node:path').then((m) => typeof m.join);`);
    expect(await (exportsOf(join(dir, 'dyn.cjs')).load as () => Promise<string>)()).toBe('function');
  });
});

describe('helpers and cache', () => {
  it('shares one instance of a helper, handles require cycles, and tracks what each load reached', async () => {
    await writeFile(join(dir, 'h.cjs'), 'exports.count = 0; exports.bump = () => ++exports.count;');
    await writeFile(join(dir, 'p1.cjs'), `const h = require('./h.cjs'); h.bump(); exports.h = h;`);
    await writeFile(join(dir, 'p2.cjs'), `const h = require(__dirname + '/h.cjs'); h.bump(); exports.h = h;`);
    await writeFile(join(dir, 'x.cjs'), `exports.early = true; exports.y = require('./y.cjs');`);
    await writeFile(join(dir, 'y.cjs'), `exports.sawX = require('./x.cjs').early;`);
    const r1 = loader.load(join(dir, 'p1.cjs'));
    const r2 = loader.load(join(dir, 'p2.cjs'));
    expect(r1.ok && r2.ok).toBe(true);
    expect((exportsOf(join(dir, 'p1.cjs')).h as { count: number }).count).toBe(2);
    expect([...r2.touched].sort()).toEqual([join(dir, 'h.cjs'), join(dir, 'p2.cjs')]);
    expect((exportsOf(join(dir, 'x.cjs')).y as { sawX: boolean }).sawX).toBe(true);
  });

  it('invalidates a changed helper with every file that required it, and prunes unreachable files', async () => {
    await writeFile(join(dir, 'h.cjs'), 'exports.v = 1;');
    await writeFile(join(dir, 'mid.cjs'), `exports.v = require('./h.cjs').v;`);
    await writeFile(join(dir, 'top.cjs'), `exports.v = require('./mid.cjs').v;`);
    await writeFile(join(dir, 'other.cjs'), 'exports.v = 0;');
    expect(exportsOf(join(dir, 'top.cjs')).v).toBe(1);
    exportsOf(join(dir, 'other.cjs'));
    expect(loader.unchanged(join(dir, 'h.cjs'))).toBe(true);
    await writeFile(join(dir, 'h.cjs'), 'exports.v = 2;');
    expect(loader.unchanged(join(dir, 'h.cjs'))).toBe(false);
    const dropped = loader.invalidate([join(dir, 'h.cjs')]);
    expect([...dropped].sort()).toEqual(['h.cjs', 'mid.cjs', 'top.cjs'].map((f) => join(dir, f)));
    expect(loader.has(join(dir, 'other.cjs'))).toBe(true);
    expect(exportsOf(join(dir, 'top.cjs')).v).toBe(2);
    loader.prune([join(dir, 'other.cjs')]);
    expect(loader.has(join(dir, 'top.cjs'))).toBe(false);
    expect(loader.has(join(dir, 'h.cjs'))).toBe(false);
    expect(loader.has(join(dir, 'other.cjs'))).toBe(true);
  });

  it('leaves files outside the plugin folders to Node', async () => {
    const outside = realpathSync(await mkdtemp(join(tmpdir(), 'ep-outside-')));
    try {
      await writeFile(join(outside, 'lib.cjs'), 'exports.id = Math.random();');
      await writeFile(join(dir, 'uses.cjs'), `exports.lib = require(${JSON.stringify(join(outside, 'lib.cjs'))});`);
      const r = loader.load(join(dir, 'uses.cjs'));
      expect(r.ok).toBe(true);
      expect([...r.touched]).toEqual([join(dir, 'uses.cjs')]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('failures', () => {
  it('names the file at fault, its line, and who required it', async () => {
    await writeFile(join(dir, 'bad.cjs'), 'let a = 1;\nfoo(;');
    await writeFile(join(dir, 'throws.cjs'), '\n\nthrow new Error("nope");');
    await writeFile(join(dir, 'user.cjs'), `require('./bad.cjs');`);
    await writeFile(join(dir, 'bad.json'), '{ nope');
    const bad = loader.load(join(dir, 'bad.cjs'));
    expect(bad).toMatchObject({ ok: false, file: join(dir, 'bad.cjs') });
    expect(!bad.ok && bad.message).toBe(`syntax error in ${join(dir, 'bad.cjs')} line 2: Unexpected token ';'`);
    const thrown = loader.load(join(dir, 'throws.cjs'));
    expect(!thrown.ok && thrown.message).toMatch(/throws\.cjs threw while loading at line 3:7: nope$/);
    const user = loader.load(join(dir, 'user.cjs'));
    expect(!user.ok && user.message).toContain(`(required by ${join(dir, 'user.cjs')})`);
    expect(user.touched.has(join(dir, 'bad.cjs'))).toBe(true);
    const json = loader.load(join(dir, 'bad.json'));
    expect(!json.ok && json.message).toContain('is not valid JSON');
    const missing = loader.load(join(dir, 'missing.cjs'));
    expect(!missing.ok && missing.message).toMatch(/^cannot read .*missing\.cjs: ENOENT/);
  });
});

describe('memory', () => {
  // A real process with --expose-gc: 300 reloads of a plugin that allocates 1 MB at load. A loader that
  // kept old versions would grow the heap by about 300 MB; the bound leaves room for noise only.
  for (const format of ['cjs', 'esm'] as const) {
    it(`frees old versions of ${format} plugins on reload`, async () => {
      const script = join(dir, 'heap.mjs');
      const folder = join(dir, 'plugins');
      await mkdir(folder);
      const index = pathToFileURL(resolve('dist/index.js')).href;
      await writeFile(
        script,
        `import { writeFileSync, renameSync } from 'node:fs';
         import { createExtension } from ${JSON.stringify(index)};
         const file = ${JSON.stringify(join(folder, format === 'esm' ? 'hot.mjs' : 'hot.cjs'))};
         const src = (v) => 'const big = new Array(131072); for (let i = 0; i < big.length; i++) big[i] = i + 0.5;\\n' +
           (${JSON.stringify(format)} === 'esm' ? 'export const host_p_Plugin' : 'exports.host_p_Plugin') + ' = () => big[0] >= 0 ? ' + v + ' : -1;';
         const write = (v) => { writeFileSync(file + '.tmp', src(v)); renameSync(file + '.tmp', file); };
         write(0);
         const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(folder)}], watch: false });
         await ext.start();
         for (let v = 1; v <= 20; v++) { write(v); await ext.rescan(); }
         const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
         const h0 = heap();
         for (let v = 21; v <= 320; v++) {
           write(v); await ext.rescan();
           if (ext.callPluginsSync('host', 'p')[0].data !== v) throw new Error('version ' + v + ' did not load');
         }
         console.log(JSON.stringify({ growth: heap() - h0, errors: ext.report().status.loadErrors.length }));`,
      );
      const out = await new Promise<string>((done, fail) =>
        execFile(process.execPath, ['--expose-gc', script], { timeout: 120_000 }, (err, stdout, stderr) =>
          err ? fail(new Error(`${err.message}\n${stderr}`)) : done(stdout),
        ),
      );
      const { growth, errors } = JSON.parse(out) as { growth: number; errors: number };
      expect(errors).toBe(0);
      expect(growth).toBeLessThan(20 * 1024 * 1024);
    }, 150_000);
  }
});
