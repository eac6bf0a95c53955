/**
 * Discovery of modules Node has loaded: real child processes running real files against the built dist/.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dist = pathToFileURL(resolve('dist/index.js')).href;
const register = pathToFileURL(resolve('dist/register.js')).href;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'extpoint-scan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(entries: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(dir, 'case-'));
  for (const [name, text] of Object.entries(entries)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

async function node(root: string, args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, args, { cwd: root });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('start() walks require.cache', () => {
  it('finds CommonJS plugins outside node_modules, names modules by file, and records inspection errors', async () => {
    const root = await files({
      'host.cjs': `
        const { createRequire } = require('node:module');
        (async () => {
          const { extension } = await import(${JSON.stringify(dist)});
          require('./plugins/anat.cjs');
          require('./plugins/my-plugin.v2.cjs');
          require('./plugins/util.cjs');
          require('./plugins/getter.cjs');
          require('./node_modules/dep/index.js');
          await extension.start();
          require('./plugins/late.cjs');
          const before = extension.callPluginsSync('host', 'go', 1).map((r) => [r.info.module, r.data]);
          await extension.restart();
          const after = extension.callPluginsSync('host', 'go', 1).map((r) => [r.info.module, r.data]);
          const errors = extension.report().status.loadErrors.map((e) => [e.module, e.export, e.file && e.file.endsWith('getter.cjs')]);
          console.log(JSON.stringify({ before, after, errors, startCount: extension.report().status.startCount }));
        })();
      `,
      'plugins/anat.cjs': `exports.host_go_Plugin = (x) => 'anat ' + x;`,
      'plugins/my-plugin.v2.cjs': `exports.host_go_Plugin = (x) => 'v2 ' + x;`,
      'plugins/util.cjs': `exports.helper = () => 1;`,
      'plugins/getter.cjs': `Object.defineProperty(exports, 'host_go_Plugin', { enumerable: true, get() { throw new Error('nope'); } });`,
      'plugins/late.cjs': `exports.host_go_Plugin = (x) => 'late ' + x;`,
      'node_modules/dep/index.js': `exports.host_go_Plugin = () => 'from a dependency';`,
    });
    const out = await node(root, ['host.cjs']);
    expect(out).toEqual({
      before: [['anat', 'anat 1'], ['my-plugin.v2', 'v2 1']],
      after: [['anat', 'anat 1'], ['late', 'late 1'], ['my-plugin.v2', 'v2 1']],
      errors: [['getter', 'host_go_Plugin', true], ['getter', 'host_go_Plugin', true]],
      startCount: 2,
    });
  });

  it('records a second module of the same name as a load error naming both paths', async () => {
    const root = await files({
      'host.cjs': `
        (async () => {
          const { extension } = await import(${JSON.stringify(dist)});
          require('./a/dup.cjs');
          require('./b/dup.cjs');
          await extension.start();
          const results = extension.callPluginsSync('host', 'go').map((r) => r.data);
          const errors = extension.report().status.loadErrors.map((e) => e.message);
          console.log(JSON.stringify({ results, errors }));
        })();
      `,
      'a/dup.cjs': `exports.host_go_Plugin = () => 'a';`,
      'b/dup.cjs': `exports.host_go_Plugin = () => 'b';`,
    });
    const out = (await node(root, ['host.cjs'])) as { results: string[]; errors: string[] };
    expect(out.results).toEqual(['a']);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatch(/module name "dup" is already taken by .*[/\\]a[/\\]dup\.cjs/);
  });
});

describe('start() walks ES modules recorded by extpoint/register', () => {
  it('finds ES module plugins, and the host module itself once it has finished evaluating', async () => {
    const root = await files({
      'host.mjs': `
        import { extension } from ${JSON.stringify(dist)};
        import './esmplug.mjs';
        export function host_go_Extension(x) { return extension.callPluginsSync('host', 'go', x); }
        export function host_go_Plugin(x) { return 'host ' + x; }
        await extension.start();
        const during = host_go_Extension(1).map((r) => r.info.module);
        setTimeout(() => {
          const after = host_go_Extension(1).map((r) => r.info.module);
          console.log(JSON.stringify({ during, after, points: extension.report().points.map((p) => p.fn) }));
        }, 100);
      `,
      'esmplug.mjs': `export const host_go_Plugin = (x) => 'esm ' + x;`,
    });
    expect(await node(root, ['--import', register, 'host.mjs'])).toEqual({
      during: ['esmplug'],
      after: ['esmplug', 'host'],
      points: ['host_go_Extension'],
    });
    // Without the hook, ES modules are not seen (only what registerModule gives).
    expect(await node(root, ['host.mjs'])).toMatchObject({ during: [], after: [] });
  });
});
