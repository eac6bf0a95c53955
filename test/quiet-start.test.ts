/**
 * A plain start prints nothing. Plugin files are compiled with `vm.compileFunction` and Node's
 * `vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`, so that `import()` in them reaches Node's loader; Node 20
 * emits an `ExperimentalWarning` about that constant the first time such code calls `import()`. A host whose
 * plugins use `import()` must still start and run silently, and its own warnings must still be printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runNode, type Run } from './helpers/run-node.js';

const DIST = pathToFileURL(resolve('dist/index.js')).href;

function node(script: string, args: string[] = []): Promise<Run> {
  return runNode([...args, script], { env: { NODE_OPTIONS: '' } });
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ep-quiet-'));
  await mkdir(join(root, 'plugins'));
  await mkdir(join(root, 'lib'));
  await writeFile(join(root, 'lib', 'rates.mjs'), 'export const rate = 3;');
  // import() at load time (top level) and at call time, from a CommonJS and an ES module plugin file.
  await writeFile(
    join(root, 'plugins', 'eager.cjs'),
    `const ready = import('node:path').then((m) => typeof m.join);
exports.shop_checkout_Plugin = async () => 'eager ' + (await ready);`,
  );
  await writeFile(
    join(root, 'plugins', 'lazy.mjs'),
    `export async function shop_checkout_Plugin() { const { rate } = await import('../lib/rates.mjs'); return 'lazy ' + rate; }`,
  );
  await writeFile(
    join(root, 'host.mjs'),
    `import { createExtension } from ${JSON.stringify(DIST)};
const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(join(root, 'plugins'))}], watch: false });
await ext.start();
const results = await ext.callPlugins('shop', 'checkout');
console.log(JSON.stringify(results.map((r) => r.data)));
console.log(JSON.stringify(ext.report().status.loadErrors.map((e) => e.message)));
if (process.argv.includes('--own-warning')) process.emitWarning('the host warns about its own thing', 'HostWarning');
await ext.stop();`,
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a plain start', () => {
  it('prints nothing but the host\'s own output, even when plugins use import()', async () => {
    const run = await node(join(root, 'host.mjs'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('["eager function","lazy 3"]\n[]\n');
  });

  it('still prints the host\'s own warnings', async () => {
    const script = join(root, 'warns.mjs');
    await writeFile(script, `process.argv.push('--own-warning');\nawait import(${JSON.stringify(pathToFileURL(join(root, 'host.mjs')).href)});`);
    const run = await node(script);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/HostWarning: the host warns about its own thing/);
    expect(run.stderr).not.toMatch(/ExperimentalWarning/);
  });
});
