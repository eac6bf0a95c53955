/**
 * Issue 16, loading and naming: hostile thrown values and exports, hostile modules in `require.cache`, file
 * names an operator could not type, names far too long, caches that must stay small, and ES modules deep
 * enough to kill the transform service. Real files in temp folders; child processes where the host could
 * die or where the heap is measured (with `--expose-gc`, bounds generous enough to leave room for noise).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, type Extension } from '../src/index.js';

let base: string;
let plugins: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = realpathSync(await mkdtemp(join(tmpdir(), 'ep-hload-')));
  plugins = join(base, 'plugins');
  await mkdir(plugins);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

const INDEX = pathToFileURL(resolve('dist/index.js')).href;

const pluginOf = (value: unknown) => `exports.host_p_Plugin = () => ${JSON.stringify(value)};\n`;
const answers = (e: Extension) =>
  e
    .callPluginsSync('host', 'p')
    .map((r) => (r.state === 'ok' ? r.data : 'EXIT'))
    .sort();
const errorFiles = (e: Extension) => e.report().status.loadErrors.map((x) => x.file);

async function started(): Promise<Extension> {
  ext = createExtension({ scanLoaded: false, pluginDirs: [plugins], watch: false });
  await ext.start();
  return ext;
}

/** Runs an ES module script with Node (extra flags first); resolves with its last stdout line as JSON. */
function runScript(script: string, flags: string[] = []): Promise<{ result: any; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      process.execPath,
      [...flags, script],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const lines = stdout.trim().split('\n');
        try {
          resolvePromise({ result: JSON.parse(lines[lines.length - 1]!), stderr });
        } catch {
          reject(new Error(`script failed (${err?.message ?? 'no result'}): ${stdout.slice(-2000)} ${stderr.slice(-2000)}`));
        }
      },
    );
    child.stdin?.end();
  });
}

/** Source that defines `evil`: a value that throws itself from every trap, so inspecting it rethrows it. */
const SELF_THROWER = `
const handler = {};
for (const trap of ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'apply', 'construct', 'defineProperty', 'set']) {
  handler[trap] = () => { throw evil; };
}
const evil = new Proxy(function () {}, handler);
`;

/** Errors whose every way of being described throws. */
const HOSTILE_THROWS: Record<string, string> = {
  'message.cjs': `const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw e; } }); throw e;`,
  'stack.cjs': `const e = new Error('x'); Object.defineProperty(e, 'stack', { get() { throw new Error('no stack'); } }); throw e;`,
  'name.cjs': `const e = new Error('x'); Object.defineProperty(e, 'name', { get() { throw e; } });
               Object.defineProperty(e, 'message', { get() { throw e; } }); throw e;`,
  'tostring.cjs': `throw { toString() { throw this; }, valueOf() { throw this; }, [Symbol.toPrimitive]() { throw this; } };`,
  'selfthrow.cjs': `${SELF_THROWER} throw evil;`,
  'getter.cjs': `${SELF_THROWER}
    exports.host_p_Plugin = () => 'getter-sibling';
    Object.defineProperty(exports, 'host_q_Plugin', { enumerable: true, get() { throw evil; } });`,
  'esmthrow.mjs': `${SELF_THROWER} throw evil; export const host_p_Plugin = () => 'never';`,
};

describe('item 9: errors that throw when described', () => {
  // In a child process: before the fix such a value escaped as an unhandled rejection and killed the host.
  it('become load errors of their files; the other files register and the folder keeps working', async () => {
    for (const [name, text] of Object.entries(HOSTILE_THROWS)) await writeFile(join(plugins, name), text);
    await writeFile(join(plugins, 'good.cjs'), pluginOf('good'));
    const script = join(base, 'host.mjs');
    await writeFile(
      script,
      `import { writeFileSync } from 'node:fs';
       import { createExtension } from ${JSON.stringify(INDEX)};
       const answers = (e) => e.callPluginsSync('host', 'p').map((r) => (r.state === 'ok' ? r.data : 'EXIT')).sort();
       const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}], watch: false });
       const out = {};
       out.start = await ext.start().then(() => 'resolved', () => 'rejected');
       out.first = answers(ext);
       out.errors = ext.report().status.loadErrors.map((e) => ({ file: e.file, export: e.export, message: typeof e.message }));
       writeFileSync(${JSON.stringify(join(plugins, 'later.cjs'))}, ${JSON.stringify(pluginOf('later'))});
       out.rescan = await ext.rescan().then(() => 'resolved', () => 'rejected');
       out.second = answers(ext);
       writeFileSync(${JSON.stringify(join(plugins, 'later2.cjs'))}, ${JSON.stringify(pluginOf('later2'))});
       out.restart = await ext.restart('test').then(() => 'resolved', () => 'rejected');
       out.third = answers(ext);
       out.stop = await ext.stop('test').then(() => 'resolved', () => 'rejected');
       // registerModule with a getter that throws a self-rethrowing value.
       ${SELF_THROWER}
       const reg = createExtension({ scanLoaded: false });
       const exports = { host_p_Plugin: () => 'kept' };
       Object.defineProperty(exports, 'host_q_Plugin', { enumerable: true, get() { throw evil; } });
       try { reg.registerModule('hostile', exports); out.register = 'ok'; } catch { out.register = 'threw'; }
       out.registered = answers(reg);
       out.registerErrors = reg.report().status.loadErrors.map((e) => e.export);
       console.log(JSON.stringify(out));`,
    );
    const { result } = await runScript(script);
    expect(result.start).toBe('resolved');
    expect(result.first).toEqual(['getter-sibling', 'good']);
    const files = (result.errors as { file: string }[]).map((e) => e.file);
    for (const name of Object.keys(HOSTILE_THROWS)) expect(files).toContain(join(plugins, name));
    for (const err of result.errors as { message: string }[]) expect(err.message).toBe('string');
    expect((result.errors as { file: string; export?: string }[]).find((x) => x.file === join(plugins, 'getter.cjs'))!.export).toBe(
      'host_q_Plugin',
    );
    // The folder's work queue is not poisoned: new files still load on rescan and on restart.
    expect([result.rescan, result.restart, result.stop]).toEqual(['resolved', 'resolved', 'resolved']);
    expect(result.second).toEqual(['getter-sibling', 'good', 'later']);
    expect(result.third).toEqual(['getter-sibling', 'good', 'later', 'later2']);
    expect(result.register).toBe('ok');
    expect(result.registered).toEqual(['kept']);
    expect(result.registerErrors).toEqual(['host_q_Plugin']);
  });
});

describe('item 10: hostile exports refuse one export, not the module', () => {
  it('refuses a throwing getter, priority or depends with a load error naming the export', async () => {
    await writeFile(
      join(plugins, 'mixed.cjs'),
      `Object.defineProperty(exports, 'host_one_Plugin', { enumerable: true, get() { throw new Error('getter boom'); } });
       exports.host_p_Plugin = () => 'two';
       const three = () => 'three';
       Object.defineProperty(three, 'priority', { get() { throw new Error('priority boom'); } });
       exports.host_three_Plugin = three;
       const four = () => 'four';
       Object.defineProperty(four, 'depends', { get() { throw new Error('depends boom'); } });
       exports.host_four_Plugin = four;
       const five = () => 'five';
       const r = Proxy.revocable([], {}); r.revoke();
       five.depends = r.proxy;
       exports.host_five_Plugin = five;
       const six = () => 'six';
       six.depends = new Proxy(['ok'], { get(t, k) { if (k === Symbol.iterator || k === '0') throw new Error('iterate boom'); return Reflect.get(t, k); } });
       exports.host_six_Plugin = six;`,
    );
    const e = await started();
    expect(answers(e)).toEqual(['two']);
    const refused = e.report().status.loadErrors.filter((x) => x.module === 'mixed');
    expect(refused.map((x) => x.export).sort()).toEqual([
      'host_five_Plugin',
      'host_four_Plugin',
      'host_one_Plugin',
      'host_six_Plugin',
      'host_three_Plugin',
    ]);
    expect(refused.find((x) => x.export === 'host_three_Plugin')!.message).toMatch(/priority/);
    expect(refused.find((x) => x.export === 'host_four_Plugin')!.message).toMatch(/depends/);
  });

  it('makes a revoked namespace a load error of its file', async () => {
    await writeFile(join(plugins, 'revoked.cjs'), `const r = Proxy.revocable({}, {}); r.revoke(); module.exports = r.proxy;`);
    await writeFile(join(plugins, 'good.cjs'), pluginOf('good'));
    const e = await started();
    expect(answers(e)).toEqual(['good']);
    expect(errorFiles(e)).toEqual([join(plugins, 'revoked.cjs')]);
  });

  it('treats module.exports = null or a primitive as a module without plugins', async () => {
    await writeFile(join(plugins, 'nothing.cjs'), 'module.exports = null;');
    await writeFile(join(plugins, 'undef.cjs'), 'module.exports = undefined;');
    await writeFile(join(plugins, 'number.cjs'), 'module.exports = 42;');
    await writeFile(join(plugins, 'text.cjs'), "module.exports = 'host_p_Plugin';");
    await writeFile(join(plugins, 'good.cjs'), pluginOf('good'));
    const e = await started();
    expect(answers(e)).toEqual(['good']);
    expect(e.report().status.loadErrors).toEqual([]);
  });
});

describe('item 11: hostile modules already in require.cache', () => {
  it('are skipped with load errors by scanLoaded; start() resolves and the good module registers', async () => {
    const mods = join(base, 'mods');
    await mkdir(mods);
    await writeFile(join(mods, 'goodmod.cjs'), 'exports.host_p_Plugin = () => "loaded-good";');
    await writeFile(
      join(mods, 'ownkeys.cjs'),
      `${SELF_THROWER} module.exports = new Proxy({}, { ownKeys() { throw evil; }, getPrototypeOf() { throw evil; } });`,
    );
    await writeFile(join(mods, 'getters.cjs'), `${SELF_THROWER} Object.defineProperty(exports, 'host_q_Plugin', { enumerable: true, get() { throw evil; } });`);
    await writeFile(join(mods, 'revoked.cjs'), `const r = Proxy.revocable({}, {}); r.revoke(); module.exports = r.proxy;`);
    await writeFile(join(mods, 'bad name.cjs'), 'exports.host_p_Plugin = () => "bad-name";');
    const script = join(base, 'host.mjs');
    await writeFile(
      script,
      `import { createRequire } from 'node:module';
       import { createExtension } from ${JSON.stringify(INDEX)};
       const require = createRequire(${JSON.stringify(join(mods, 'x.cjs'))});
       for (const f of ['goodmod', 'ownkeys', 'getters', 'revoked', 'bad name']) require('./' + f + '.cjs');
       ${SELF_THROWER}
       // A cache record that is hostile itself, not only its exports.
       require.cache[${JSON.stringify(join(mods, 'record.cjs'))}] = evil;
       const ext = createExtension();
       let started = 'resolved';
       try { await ext.start(); } catch { started = 'rejected'; }
       const results = ext.callPluginsSync('host', 'p').map((r) => r.state + ':' + r.data);
       const errors = ext.report().status.loadErrors.map((e) => ({ file: e.file, message: e.message }));
       await ext.restart('again');
       await ext.stop();
       console.log(JSON.stringify({ started, results, errors }));`,
    );
    const { result } = await runScript(script);
    expect(result.started).toBe('resolved');
    expect(result.results).toEqual(['ok:loaded-good']);
    const files = (result.errors as { file: string }[]).map((e) => e.file);
    for (const f of ['ownkeys', 'getters', 'revoked', 'bad name']) expect(files).toContain(join(mods, `${f}.cjs`));
    const bad = (result.errors as { file: string; message: string }[]).find((e) => e.file === join(mods, 'bad name.cjs'))!;
    expect(bad.message).toMatch(/not a valid module name/);
  });
});

describe('item 14: file names an operator could not type', () => {
  const BAD = ['my plugin.cjs', 'tab\there.cjs', 'new\nline.cjs', 'esc\u001b[31mred.cjs', 'l\u043e\u043ek.cjs', 'bell\u0007.cjs'];

  it('are refused with a load error naming the rule; valid names still register', async () => {
    for (const name of BAD) await writeFile(join(plugins, name), pluginOf(name));
    await writeFile(join(plugins, 'my-plugin.v2.cjs'), pluginOf('valid'));
    const e = await started();
    expect(answers(e)).toEqual(['valid']);
    expect(e.report().plugins.map((p) => p.module)).toEqual(['my-plugin.v2']);
    const errs = e.report().status.loadErrors;
    expect(errs.map((x) => x.file).sort()).toEqual(BAD.map((n) => join(plugins, n)).sort());
    for (const err of errs) {
      expect(err.message).toMatch(/not a valid module name/);
      expect(err.message).toMatch(/letters, digits/);
      // The message itself carries the name escaped, never a raw control character.
      expect(err.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
    // Reported once, not again on every rescan of unchanged files.
    await e.rescan();
    expect(e.report().status.loadErrors).toHaveLength(BAD.length);
  });
});

describe('item 15: sizes an attacker controls', () => {
  it('refuses export names over 1,000 characters, with a short message, and registers nothing for them', () => {
    const e = (ext = createExtension({ scanLoaded: false }));
    const long = `host_${'a'.repeat(5000)}_Plugin`;
    e.registerModule('big', { [long]: () => 'long', host_p_Plugin: () => 'short' });
    expect(answers(e)).toEqual(['short']);
    const errs = e.report().status.loadErrors;
    expect(errs).toHaveLength(1);
    expect(errs[0]!.message).toMatch(/1,?000 characters/);
    expect(errs[0]!.message.length).toBeLessThan(600);
    expect((errs[0]!.export ?? '').length).toBeLessThan(200);
    expect(e.report().points.map((p) => p.fn)).toEqual(['host_p_Extension']);
  });

  it('keeps the heap within a few MB under thousands of 10 KB names', async () => {
    const script = join(base, 'heap.mjs');
    await writeFile(
      script,
      `import { createExtension } from ${JSON.stringify(INDEX)};
       const ext = createExtension({ scanLoaded: false });
       ext.registerModule('m', { m_p_Plugin: () => 1 });
       const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
       const pad = 'x'.repeat(10_000);
       // Warm up the code paths with short names first.
       for (let i = 0; i < 200; i++) ext.callPluginsSync('m', 'w' + i);
       const h0 = heap();
       // Call-only points with 10 KB names: the cache of call-only points must not keep them all.
       for (let i = 0; i < 3000; i++) ext.callPluginsSync('m', 'p' + i + pad);
       for (let i = 0; i < 1000; i++) await ext.callPlugins('mod' + i, 'q' + i + pad);
       // Modules whose export names are 10 KB long: refused, and nothing of them kept but bounded history.
       for (let i = 0; i < 1000; i++) ext.registerModule('big' + i, { ['m_' + pad + i + '_Plugin']: () => i });
       const growth = heap() - h0;
       const works = ext.callPluginsSync('m', 'p')[0].data === 1 && ext.callPluginsSync('m', 'p0' + pad).length === 0;
       console.log(JSON.stringify({ growth, works }));`,
    );
    const { result } = await runScript(script, ['--expose-gc']);
    expect(result.works).toBe(true);
    expect(result.growth).toBeLessThan(6 * 1024 * 1024);
  });
});

describe('item 17: pathologically deep ES modules', () => {
  it('give a load error for that file only; later ES module loads keep working', async () => {
    const n = 200_000;
    await writeFile(join(plugins, 'a-deep-blocks.mjs'), `export const host_p_Plugin = () => 'deep';\n${'{'.repeat(n)}${'}'.repeat(n)}\n`);
    // Not bracket nesting: esbuild's parser recurses once per \`if\` and its service dies.
    await writeFile(join(plugins, 'b-deep-ifs.mjs'), `export const host_p_Plugin = () => 'ifs';\n${'if (1) '.repeat(n)};\n`);
    await writeFile(join(plugins, 'c-fine.mjs'), `export const host_p_Plugin = () => 'fine';\n`);
    const script = join(base, 'deep.mjs');
    await writeFile(
      script,
      `import { writeFileSync } from 'node:fs';
       import { createExtension } from ${JSON.stringify(INDEX)};
       const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}], watch: false });
       await ext.start();
       const first = ext.callPluginsSync('host', 'p').map((r) => r.data);
       writeFileSync(${JSON.stringify(join(plugins, 'd-later.mjs'))}, "export const host_p_Plugin = () => 'later';");
       await ext.rescan();
       const second = ext.callPluginsSync('host', 'p').map((r) => r.data).sort();
       const errors = ext.report().status.loadErrors.map((e) => ({ file: e.file, message: e.message.slice(0, 500) }));
       await ext.stop();
       console.log(JSON.stringify({ first, second, errors }));`,
    );
    const { result } = await runScript(script);
    expect(result.first).toEqual(['fine']);
    expect(result.second).toEqual(['fine', 'later']);
    const files = (result.errors as { file: string }[]).map((e) => e.file).sort();
    expect(files).toEqual([join(plugins, 'a-deep-blocks.mjs'), join(plugins, 'b-deep-ifs.mjs')]);
    const blocks = (result.errors as { file: string; message: string }[]).find((e) => e.file.endsWith('a-deep-blocks.mjs'))!;
    expect(blocks.message).toMatch(/nest/);
  }, 120_000);
});

describe('item 14: names in messages', () => {
  it('refuses a bad name that appears while watching, once, and escapes odd export names in messages', async () => {
    ext = createExtension({ scanLoaded: false, pluginDirs: [plugins], watch: true });
    await ext.start();
    const e = ext;
    const refused = new Promise<string>((resolvePromise) => e.on('loadError', (err) => resolvePromise(err.message)));
    await writeFile(join(plugins, 'odd\u001b]0;title\u0007.cjs'), pluginOf('odd'));
    expect(await refused).toMatch(/"odd\\u001b\]0;title\\u0007" is not a valid module name/);
    expect(answers(e)).toEqual([]);

    e.registerModule('names', { ['host_b\u001b[2Jad_Plugin']: () => 1 });
    const last = e.report().status.loadErrors.at(-1)!;
    expect(last.message).toMatch(/invalid module name "host_b\\u001b\[2Jad"|invalid point name/);
    expect(last.message).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe('item 17: the nesting check', () => {
  it('counts brackets of code only, and stops once past the limit', async () => {
    const { nestingDepth, MAX_NESTING } = await import('../src/modules/nesting.js');
    expect(nestingDepth('const s = "{{{{" + \'((((\'; // [[[[\n/* {{{{ */ f(`a${ {b: [1]} }c`);')).toBe(5);
    expect(nestingDepth('`${`${`x`}`}`')).toBe(5);
    expect(nestingDepth(')]} {}')).toBe(1);
    const deep = '['.repeat(MAX_NESTING + 1) + ']'.repeat(MAX_NESTING + 1);
    expect(nestingDepth(deep)).toBe(MAX_NESTING + 1);
    expect(nestingDepth('['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING))).toBe(MAX_NESTING);
  });
});

describe('item 17: a transform service killed from outside', () => {
  it('is restarted for the next ES module, which loads', async () => {
    await writeFile(join(plugins, 'first.mjs'), `export const host_p_Plugin = () => 'first';\n`);
    const script = join(base, 'killed.mjs');
    await writeFile(
      script,
      `import { execFileSync } from 'node:child_process';
       import { writeFileSync } from 'node:fs';
       import { createExtension } from ${JSON.stringify(INDEX)};
       const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}], watch: false });
       await ext.start();
       // esbuild's service is a child of this process, started by the first conversion.
       const pids = execFileSync('pgrep', ['-P', String(process.pid), 'esbuild'], { encoding: 'utf8' }).trim().split('\\n').map(Number);
       for (const pid of pids) process.kill(pid, 'SIGKILL');
       for (const pid of pids) {
         for (;;) { try { process.kill(pid, 0); } catch { break; } await new Promise((r) => setTimeout(r, 20)); }
       }
       // Let the service notice that its process is gone.
       await new Promise((r) => setTimeout(r, 200));
       writeFileSync(${JSON.stringify(join(plugins, 'second.mjs'))}, "export const host_p_Plugin = () => 'second';");
       await ext.rescan();
       const results = ext.callPluginsSync('host', 'p').map((r) => r.data).sort();
       const errors = ext.report().status.loadErrors.map((e) => e.message);
       await ext.stop();
       console.log(JSON.stringify({ killed: pids.length, results, errors }));`,
    );
    const { result } = await runScript(script);
    expect(result.killed).toBeGreaterThan(0);
    expect(result.errors).toEqual([]);
    expect(result.results).toEqual(['first', 'second']);
  });
});
