/**
 * Plugin folders end to end: real files in temp folders, the real chokidar watcher, events awaited (never
 * slept for). Scan, add, change, delete, rename, bursts, writes in progress, broken files, duplicates,
 * helpers, formats, npm packages, symbolic links, stop/start and rescan.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createExtension, type Extension, type ExtensionEvents } from '../src/index.js';

let base: string;
let plugins: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-folder-'));
  plugins = join(base, 'plugins');
  await mkdir(plugins);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

/** Resolves with the first `event` whose payload passes `pred`; rejects after a generous timeout. */
function next<E extends keyof ExtensionEvents>(
  e: Extension,
  event: E,
  pred: (payload: ExtensionEvents[E][0]) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<ExtensionEvents[E][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      e.off(event, listener as never);
      reject(new Error(`no ${event} event within ${timeoutMs} ms; load errors: ${JSON.stringify(e.report().status.loadErrors)}`));
    }, timeoutMs);
    const listener = (payload: ExtensionEvents[E][0]) => {
      if (!pred(payload)) return;
      clearTimeout(timer);
      e.off(event, listener as never);
      resolve(payload);
    };
    e.on(event, listener as never);
  });
}

/** Waits until `cond` holds, checking after each extension event (and a slow fallback poll). */
async function until(e: Extension, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const ev of ['load', 'reload', 'unload', 'loadError'] as const) e.off(ev, done);
        resolve();
      };
      const timer = setTimeout(done, 100);
      for (const ev of ['load', 'reload', 'unload', 'loadError'] as const) e.on(ev, done);
    });
  }
}

const cjs = (value: unknown, extra = '') => `${extra}\nexports.host_p_Plugin = () => ${JSON.stringify(value)};\n`;
const esm = (value: unknown, extra = '') => `${extra}\nexport function host_p_Plugin() { return ${JSON.stringify(value)}; }\n`;
const answers = (e: Extension) => e.callPluginsSync('host', 'p').map((r) => (r.state === 'ok' ? r.data : `EXIT:${String(r.data)}`));
const errors = (e: Extension) => e.report().status.loadErrors;

/** Replaces `file` the way careful writers do: a temp file in the same folder, then a rename over it. */
async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function started(opts: { dirs?: string[]; watch?: boolean; checkPermissions?: boolean } = {}): Promise<Extension> {
  ext = createExtension({ scanLoaded: false, pluginDirs: opts.dirs ?? [plugins], watch: opts.watch, checkPermissions: opts.checkPermissions });
  await ext.start();
  return ext;
}

describe('scan', () => {
  it('loads CommonJS and ES module files recursively, skipping node_modules and dot-folders', async () => {
    await mkdir(join(plugins, 'sub', 'deeper'), { recursive: true });
    await mkdir(join(plugins, 'node_modules', 'x'), { recursive: true });
    await mkdir(join(plugins, '.hidden'));
    await writeFile(join(plugins, 'one.cjs'), cjs(1));
    await writeFile(join(plugins, 'sub', 'two.mjs'), esm(2));
    await writeFile(join(plugins, 'sub', 'deeper', 'three.js'), cjs(3));
    await writeFile(join(plugins, 'node_modules', 'x', 'nm.js'), cjs('nm'));
    await writeFile(join(plugins, '.hidden', 'hidden.js'), cjs('hidden'));
    const e = await started({ watch: false });
    expect(answers(e).sort()).toEqual([1, 2, 3]);
    expect(e.report().plugins.map((p) => p.module).sort()).toEqual(['one', 'three', 'two']);
    expect(errors(e)).toEqual([]);
  });

  it('treats a .js file as Node would: package "type", else syntax detection', async () => {
    await mkdir(join(plugins, 'typed'));
    await writeFile(join(plugins, 'typed', 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(join(plugins, 'typed', 'typed.js'), esm('typed'));
    await writeFile(join(plugins, 'detected.js'), esm('detected', 'import { sep } from "node:path";'));
    await writeFile(join(plugins, 'plain.js'), cjs('plain', 'const path = require("node:path");'));
    await mkdir(join(plugins, 'commonjs'));
    await writeFile(join(plugins, 'commonjs', 'package.json'), JSON.stringify({ type: 'commonjs' }));
    // An ES module file in a "commonjs" package is an error in Node too.
    await writeFile(join(plugins, 'commonjs', 'wrong.js'), esm('wrong'));
    const e = await started({ watch: false });
    expect(answers(e).sort()).toEqual(['detected', 'plain', 'typed']);
    const errs = errors(e);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.file).toBe(join(plugins, 'commonjs', 'wrong.js'));
    expect(errs[0]!.message).toMatch(/syntax error.*Unexpected token 'export'/);
  });

  it('gives ES modules import.meta and a reloadable default export interop with CommonJS helpers', async () => {
    await writeFile(join(plugins, 'helper.cjs'), 'module.exports = { twice: (x) => 2 * x };');
    await writeFile(
      join(plugins, 'meta.mjs'),
      `import helper from './helper.cjs';
       import { twice } from './helper.cjs';
       export function host_p_Plugin() { return [import.meta.url, import.meta.filename, helper.twice(2), twice(3)]; }`,
    );
    const e = await started({ watch: false });
    const file = join(plugins, 'meta.mjs');
    expect(answers(e)).toEqual([[`file://${file}`, file, 4, 6]]);
  });

  it('refuses top-level await in an ES module plugin with a reason', async () => {
    await writeFile(join(plugins, 'tla.mjs'), `await Promise.resolve();\n${esm(1)}`);
    const e = await started({ watch: false });
    expect(answers(e)).toEqual([]);
    expect(errors(e)[0]!.message).toBe(
      `ES module ${join(plugins, 'tla.mjs')} uses top-level await at line 1:0, which a reloadable plugin file cannot: move the awaited work into a function the plugin calls`,
    );
  });

  it('reports a missing plugin folder and loads it once it exists (rescan)', async () => {
    const later = join(base, 'later');
    const e = await started({ dirs: [later], watch: false });
    expect(errors(e)[0]!.message).toContain(`plugin folder ${later} cannot be scanned`);
    await mkdir(later);
    await writeFile(join(later, 'late.cjs'), cjs('late'));
    await e.rescan();
    expect(answers(e)).toEqual(['late']);
  });

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createExtension({ pluginDirs: 'plugins' as never })).toThrow(/option pluginDirs must be an array/);
    expect(() => createExtension({ pluginDirs: [''] })).toThrow(/pluginDirs/);
    expect(() => createExtension({ pluginDirs: [plugins], watch: 'yes' as never })).toThrow(/option watch must be true or false/);
    expect(() => createExtension({ checkPermissions: 0 as never })).toThrow(/option checkPermissions/);
  });
});

describe('watch', () => {
  it('adds, changes, deletes and renames; flags and counters survive a reload', async () => {
    const e = await started();
    const file = join(plugins, 'live.cjs');
    const loaded = next(e, 'load', (m) => m.module === 'live');
    await writeFile(file, cjs('v1'));
    expect(await loaded).toMatchObject({ module: 'live', origin: 'folder', file });
    expect(answers(e)).toEqual(['v1']);

    // Counters and a flag set on the plugin are kept across a reload.
    e.callPluginsSync('host', 'p');
    e.disablePlugin('live', 'host', 'p');
    const reloaded = next(e, 'reload', (m) => m.module === 'live');
    await atomicWrite(file, `${cjs('v2')}\nexports.host_q_Plugin = () => 'q';`);
    await reloaded;
    expect(answers(e)).toEqual([]);
    e.enablePlugin('live', 'host', 'p');
    expect(answers(e)).toEqual(['v2']);
    expect(e.callPluginsSync('host', 'q').map((r) => r.data)).toEqual(['q']);
    const row = e.report().plugins.find((p) => p.module === 'live' && p.fn === 'host_p_Plugin')!;
    expect(row.ok).toBe(3); // two calls before the reload, one after; none while disabled

    // A version that drops a plugin: it disappears.
    const dropped = next(e, 'reload', (m) => m.module === 'live');
    await atomicWrite(file, cjs('v3'));
    await dropped;
    expect(e.callPluginsSync('host', 'q')).toEqual([]);

    // Rename: a delete plus an add.
    const gone = next(e, 'unload', (m) => m.module === 'live');
    const renamed = next(e, 'load', (m) => m.module === 'moved');
    await rename(file, join(plugins, 'moved.cjs'));
    await Promise.all([gone, renamed]);
    expect(answers(e)).toEqual(['v3']);
    expect(e.report().plugins.find((p) => p.module === 'moved')).toBeDefined();

    // Delete.
    const unloaded = next(e, 'unload', (m) => m.module === 'moved');
    await unlink(join(plugins, 'moved.cjs'));
    expect(await unloaded).toMatchObject({ module: 'moved', file: join(plugins, 'moved.cjs') });
    expect(answers(e)).toEqual([]);
    expect(errors(e)).toEqual([]);
  });

  it('sees plugin files in a new subfolder and unloads them when the subfolder is removed', async () => {
    const e = await started();
    const loaded = next(e, 'load', (m) => m.module === 'nested');
    await mkdir(join(plugins, 'fresh', 'deep'), { recursive: true });
    await writeFile(join(plugins, 'fresh', 'deep', 'nested.mjs'), esm('nested'));
    await loaded;
    expect(answers(e)).toEqual(['nested']);
    const unloaded = next(e, 'unload', (m) => m.module === 'nested');
    await rm(join(plugins, 'fresh'), { recursive: true });
    await unloaded;
    expect(answers(e)).toEqual([]);
  });

  it('reports a scan problem once, not again for the scan that follows setting up the watcher', async () => {
    const outside = join(base, 'outside.cjs');
    await writeFile(outside, cjs('outside'));
    await symlink(outside, join(plugins, 'link.cjs'));
    await writeFile(join(plugins, 'broken.cjs'), 'exports.host_p_Plugin = (');
    const e = await started();
    await e.rescan();
    const messages = errors(e).map((x) => x.message);
    expect(messages).toHaveLength(2);
    expect(messages.filter((m) => m.includes('leads outside'))).toHaveLength(1);
    expect(messages.filter((m) => m.includes('syntax error'))).toHaveLength(1);
  });

  it('lets a call in flight finish on the old version while later calls see the new one', async () => {
    const file = join(plugins, 'slow.cjs');
    await writeFile(file, `exports.host_a_Plugin = () => new Promise((resolve) => { globalThis.__epRelease = () => resolve('old'); });`);
    const e = await started();
    const inFlight = e.callPlugins('host', 'a');
    const reloaded = next(e, 'reload', (m) => m.module === 'slow');
    await atomicWrite(file, `exports.host_a_Plugin = async () => 'new';`);
    await reloaded;
    expect((await e.callPlugins('host', 'a')).map((r) => r.data)).toEqual(['new']);
    (globalThis as { __epRelease?: () => void }).__epRelease!();
    expect((await inFlight).map((r) => r.data)).toEqual(['old']);
    delete (globalThis as { __epRelease?: () => void }).__epRelease;
  });

  it('loads a burst of changes once, ending on the last version', async () => {
    const file = join(plugins, 'burst.cjs');
    await writeFile(file, cjs(0));
    const e = await started();
    let reloads = 0;
    e.on('reload', () => reloads++);
    // Written back to back, without yielding: the watcher sees them only as a burst.
    for (let v = 1; v <= 20; v++) writeFileSync(file, cjs(v));
    await until(e, () => answers(e)[0] === 20);
    expect(reloads).toBe(1);
    expect(errors(e)).toEqual([]);
  });

  it('never loads a large file copied in pieces half-written, nor reports an error for it', async () => {
    const e = await started();
    const file = join(plugins, 'big.cjs');
    // Any prefix of this file is an unterminated template literal: a half-written load would fail loudly.
    const source = `const big = \`${'x'.repeat(2 * 1024 * 1024)}\`;\nexports.host_p_Plugin = () => big.length;\n`;
    const pieces = 8;
    const size = Math.ceil(source.length / pieces);
    let loads = 0;
    e.on('load', () => loads++);
    const loaded = next(e, 'load', (m) => m.module === 'big');
    for (let i = 0; i < pieces; i++) {
      await appendFile(file, source.slice(i * size, (i + 1) * size));
      await new Promise((resolve) => setTimeout(resolve, 5)); // the writer's own pace, not an assertion
    }
    await loaded;
    expect(answers(e)).toEqual([2 * 1024 * 1024]);
    expect(loads).toBe(1);
    expect(errors(e)).toEqual([]);
  });

  it("handles an editor's save-by-rename and cp then mv without spurious errors", async () => {
    const file = join(plugins, 'edited.cjs');
    await writeFile(file, cjs('old'));
    const e = await started();
    let unloads = 0;
    e.on('unload', (m) => m.module === 'edited' && unloads++);
    // Save-by-rename: backup the old file, write the new one under a temp name, rename it into place.
    const reloaded = next(e, 'reload', (m) => m.module === 'edited');
    await rename(file, `${file}~`);
    await writeFile(join(plugins, '.edited.cjs.swp'), cjs('new'));
    await rename(join(plugins, '.edited.cjs.swp'), file);
    await unlink(`${file}~`);
    await reloaded;
    expect(answers(e)).toEqual(['new']);
    expect(unloads).toBe(0);

    // cp then mv: copied in under a name that is no plugin, then moved to its name.
    const outside = join(base, 'incoming.cjs');
    await writeFile(outside, cjs('copied'));
    const added = next(e, 'load', (m) => m.module === 'copied');
    await copyFile(outside, join(plugins, 'copied.cjs.part'));
    await rename(join(plugins, 'copied.cjs.part'), join(plugins, 'copied.cjs'));
    await added;
    // cp to a plugin name then mv to another: only the final name stays.
    await copyFile(outside, join(plugins, 'staging.cjs'));
    await rename(join(plugins, 'staging.cjs'), join(plugins, 'final.cjs'));
    await until(e, () => e.report().plugins.some((p) => p.module === 'final'));
    await until(e, () => !e.report().plugins.some((p) => p.module === 'staging'));
    expect(answers(e).sort()).toEqual(['copied', 'copied', 'new']);
    expect(errors(e)).toEqual([]);
  });

  it('keeps the last good version serving when a change is broken, until a good one arrives', async () => {
    const file = join(plugins, 'fragile.cjs');
    await writeFile(file, cjs('good'));
    const e = await started();
    const broken = [
      ['exports.host_p_Plugin = () => {', /syntax error in .*fragile\.cjs line 1: Unexpected end of input/],
      ['throw new Error("top level boom");', /fragile\.cjs threw while loading at line 1:\d+: top level boom/],
      ['exports.host_p_Plugin = 42;', /export "host_p_Plugin" is .*not a function.*the previous version keeps serving/],
    ] as const;
    for (const [text, message] of broken) {
      const failed = next(e, 'loadError', (x) => x.file === file);
      await atomicWrite(file, text);
      const err = await failed;
      expect(err.message).toMatch(message);
      expect(err.module).toBe('fragile');
      expect(err.at).toBeInstanceOf(Date);
      expect(answers(e)).toEqual(['good']);
    }
    const fixed = next(e, 'reload', (m) => m.module === 'fragile');
    await atomicWrite(file, cjs('fixed'));
    await fixed;
    expect(answers(e)).toEqual(['fixed']);
    expect(errors(e)).toHaveLength(3);
  });

  it('survives many reloads in a row, each answering with its version', async () => {
    const file = join(plugins, 'many.mjs');
    await writeFile(file, esm(0));
    const e = await started();
    for (let v = 1; v <= 30; v++) {
      const reloaded = next(e, 'reload', (m) => m.module === 'many');
      await atomicWrite(file, esm(v));
      await reloaded;
      await until(e, () => answers(e)[0] === v);
    }
    expect(answers(e)).toEqual([30]);
    expect(errors(e)).toEqual([]);
  });

  it('stops watching on stop() and starts again on start()', async () => {
    const e = await started();
    await e.stop();
    await writeFile(join(plugins, 'while-stopped.cjs'), cjs('scanned'));
    const loaded = next(e, 'load', (m) => m.module === 'while-stopped');
    await e.start();
    await loaded;
    const added = next(e, 'load', (m) => m.module === 'after');
    await writeFile(join(plugins, 'after.cjs'), cjs('watched'));
    await added;
    expect(answers(e).sort()).toEqual(['scanned', 'watched']);
  });

  it('frees its handles on stop(): a host process that stops exits by itself', async () => {
    const script = join(base, 'host.mjs');
    await writeFile(join(plugins, 'p.cjs'), cjs('p'));
    const dist = join(process.cwd(), 'dist', 'index.js');
    await writeFile(
      script,
      `import { createExtension } from ${JSON.stringify(dist)};
       const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}] });
       await ext.start();
       console.log(ext.callPluginsSync('host', 'p').map((r) => r.data).join());
       await ext.stop();`,
    );
    const out = await new Promise<string>((done, fail) =>
      execFile(process.execPath, [script], { timeout: 20_000 }, (err, stdout) => (err ? fail(err) : done(stdout))),
    );
    expect(out.trim()).toBe('p');
  });

  it('rescans on demand when not watching', async () => {
    const file = join(plugins, 'manual.cjs');
    const e = await started({ watch: false });
    await writeFile(file, cjs(1));
    await e.rescan();
    expect(answers(e)).toEqual([1]);
    await writeFile(file, cjs(22));
    await e.rescan();
    expect(answers(e)).toEqual([22]);
    await unlink(file);
    await e.rescan();
    expect(answers(e)).toEqual([]);
    await e.restart('picked up');
    expect(errors(e)).toEqual([]);
  });
});

describe('duplicates', () => {
  it('lets the first file win (earlier folder, then path order) and hands over when the winner goes', async () => {
    const second = join(base, 'second');
    await mkdir(second);
    await mkdir(join(plugins, 'a'));
    await mkdir(join(plugins, 'b'));
    await writeFile(join(plugins, 'b', 'dup.cjs'), cjs('plugins/b'));
    await writeFile(join(second, 'dup.cjs'), cjs('second'));
    await writeFile(join(plugins, 'a', 'dup.cjs'), cjs('plugins/a'));
    const e = await started({ dirs: [plugins, second] });
    expect(answers(e)).toEqual(['plugins/a']);
    const errs = errors(e).map((x) => x.message);
    expect(errs).toHaveLength(2);
    expect(errs[0]).toContain(`module name "dup" of ${join(plugins, 'b', 'dup.cjs')} is already taken by ${join(plugins, 'a', 'dup.cjs')}`);
    expect(errs[1]).toContain(`of ${join(second, 'dup.cjs')} is already taken by ${join(plugins, 'a', 'dup.cjs')}`);

    const handedOver = next(e, 'reload', (m) => m.module === 'dup');
    await unlink(join(plugins, 'a', 'dup.cjs'));
    expect(await handedOver).toMatchObject({ file: join(plugins, 'b', 'dup.cjs') });
    expect(answers(e)).toEqual(['plugins/b']);
    const last = next(e, 'reload', (m) => m.module === 'dup');
    await unlink(join(plugins, 'b', 'dup.cjs'));
    expect(await last).toMatchObject({ file: join(second, 'dup.cjs') });
    expect(answers(e)).toEqual(['second']);
  });
});

describe('names', () => {
  it('does not take over a module name given to registerModule, and unloads a file that stops declaring', async () => {
    await writeFile(join(plugins, 'taken.cjs'), cjs('from file'));
    await writeFile(join(plugins, 'shrinking.cjs'), cjs('here'));
    ext = createExtension({ scanLoaded: false, pluginDirs: [plugins] });
    const e = ext;
    e.registerModule('taken', { host_p_Plugin: () => 'registered' });
    await e.start();
    expect(answers(e).sort()).toEqual(['here', 'registered']);
    expect(errors(e)[0]!.message).toBe(
      `module name "taken" is already taken by a module with origin "registered"; ${join(plugins, 'taken.cjs')} is not loaded (rename the file)`,
    );
    const unloaded = next(e, 'unload', (m) => m.module === 'shrinking');
    await atomicWrite(join(plugins, 'shrinking.cjs'), 'exports.helperOnly = 1;');
    await unloaded;
    expect(answers(e)).toEqual(['registered']);
  });
});

describe('listeners', () => {
  it('keeps working when a load listener throws', async () => {
    const e = await started();
    e.on('load', (m) => {
      if (m.module === 'first') throw new Error('listener bug');
    });
    const failed = next(e, 'loadError', (x) => x.module === 'first');
    await writeFile(join(plugins, 'first.cjs'), cjs('first'));
    expect((await failed).message).toBe('a listener of the load events threw: listener bug');
    const second = next(e, 'load', (m) => m.module === 'second');
    await writeFile(join(plugins, 'second.cjs'), cjs('second'));
    await second;
    expect(answers(e).sort()).toEqual(['first', 'second']);
    const unloaded = next(e, 'unload', (m) => m.module === 'first');
    await unlink(join(plugins, 'first.cjs'));
    await unloaded;
    expect(answers(e)).toEqual(['second']);
  });
});

describe('helpers', () => {
  it('allows same-named helpers, and reloads the modules that use a changed helper', async () => {
    for (const sub of ['x', 'y']) {
      await mkdir(join(plugins, sub));
      await writeFile(join(plugins, sub, 'utils.cjs'), `exports.tag = ${JSON.stringify(sub + '1')};`);
      await writeFile(join(plugins, sub, `user_${sub}.cjs`), `const u = require('./utils.cjs');\n${cjs(0).replace('0', 'u.tag')}`);
    }
    await writeFile(join(plugins, 'data.json'), JSON.stringify({ n: 1 }));
    await writeFile(join(plugins, 'json_user.cjs'), `const d = require('./data.json');\nexports.host_j_Plugin = () => d.n;`);
    const e = await started();
    expect(answers(e).sort()).toEqual(['x1', 'y1']);
    expect(errors(e)).toEqual([]);
    expect(e.report().plugins.map((p) => p.module).sort()).toEqual(['json_user', 'user_x', 'user_y']);

    let yReloads = 0;
    e.on('reload', (m) => m.module === 'user_y' && yReloads++);
    const reloaded = next(e, 'reload', (m) => m.module === 'user_x');
    await atomicWrite(join(plugins, 'x', 'utils.cjs'), `exports.tag = 'x2';`);
    await reloaded;
    expect(answers(e).sort()).toEqual(['x2', 'y1']);
    expect(yReloads).toBe(0);

    const json = next(e, 'reload', (m) => m.module === 'json_user');
    await atomicWrite(join(plugins, 'data.json'), JSON.stringify({ n: 2 }));
    await json;
    expect(e.callPluginsSync('host', 'j').map((r) => r.data)).toEqual([2]);

    // A broken helper: the users keep their last good version, and the error names the helper.
    const failed = next(e, 'loadError', (x) => x.module === 'user_x');
    await atomicWrite(join(plugins, 'x', 'utils.cjs'), `exports.tag = ;`);
    expect((await failed).message).toMatch(/syntax error in .*x\/utils\.cjs.*required by .*user_x\.cjs.*previous version keeps serving/);
    expect(answers(e).sort()).toEqual(['x2', 'y1']);
  });

  it('reloads an ES module plugin when the ES module helper it imports changes', async () => {
    await writeFile(join(plugins, 'words.mjs'), `export const word = 'one';`);
    await writeFile(join(plugins, 'speaker.mjs'), `import { word } from './words.mjs';\nexport const host_p_Plugin = () => word;`);
    const e = await started();
    expect(answers(e)).toEqual(['one']);
    const reloaded = next(e, 'reload', (m) => m.module === 'speaker');
    await atomicWrite(join(plugins, 'words.mjs'), `export const word = 'two';`);
    await reloaded;
    expect(answers(e)).toEqual(['two']);
  });

  it('reloads the .js files below a package.json whose "type" changed', async () => {
    await mkdir(join(plugins, 'pkg'));
    await writeFile(join(plugins, 'pkg', 'package.json'), JSON.stringify({ type: 'commonjs' }));
    await writeFile(join(plugins, 'pkg', 'typed.js'), esm('typed'));
    const e = await started();
    expect(answers(e)).toEqual([]);
    expect(errors(e)[0]!.message).toMatch(/syntax error in .*typed\.js/);
    const loaded = next(e, 'load', (m) => m.module === 'typed');
    await atomicWrite(join(plugins, 'pkg', 'package.json'), JSON.stringify({ type: 'module' }));
    await loaded;
    expect(answers(e)).toEqual(['typed']);
  });

  it('loads npm packages from node_modules beside the plugin folder, for CommonJS and ES modules', async () => {
    const pkg = join(base, 'node_modules', 'tinypkg');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'tinypkg', main: 'index.js' }));
    await writeFile(join(pkg, 'index.js'), `exports.shout = (s) => s.toUpperCase() + '!';`);
    await writeFile(join(plugins, 'uses_cjs.cjs'), `const { shout } = require('tinypkg');\n${cjs(0).replace('0', 'shout("cjs")')}`);
    await writeFile(join(plugins, 'uses_esm.mjs'), `import { shout } from 'tinypkg';\nexport const host_p_Plugin = () => shout('esm');`);
    const e = await started({ watch: false });
    expect(answers(e).sort()).toEqual(['CJS!', 'ESM!']);
  });
});

describe('symbolic links', () => {
  it('refuses, once, a link leading outside that appears while watching', async () => {
    const outside = join(base, 'outside.cjs');
    await writeFile(outside, cjs('outside'));
    const e = await started();
    const refused = next(e, 'loadError', (x) => x.message.includes('leads outside'));
    await symlink(outside, join(plugins, 'late-link.cjs'));
    await refused;
    const added = next(e, 'load', (m) => m.module === 'after');
    await writeFile(join(plugins, 'after.cjs'), cjs('after'));
    await added;
    expect(answers(e)).toEqual(['after']);
    expect(errors(e)).toHaveLength(1);
  });

  it('follows links inside the folder and refuses links leading outside', async () => {
    const outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'evil.cjs'), cjs('evil'));
    await symlink(join(outside, 'evil.cjs'), join(plugins, 'evil.cjs'));
    await symlink(outside, join(plugins, 'linkdir'));
    await mkdir(join(plugins, 'real'));
    await writeFile(join(plugins, 'real', 'target.cjs'), cjs('target'));
    await symlink(join(plugins, 'real', 'target.cjs'), join(plugins, 'alias.cjs'));
    const e = await started({ watch: false });
    expect(answers(e).sort()).toEqual(['target', 'target']);
    expect(e.report().plugins.map((p) => p.module).sort()).toEqual(['alias', 'target']);
    const errs = errors(e);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.message).toContain(`symbolic link ${join(plugins, 'evil.cjs')} leads outside its plugin folder`);
  });
});
