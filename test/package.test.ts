/**
 * The package as users get it: `npm pack` from a fresh checkout (no dist/, so the `prepare` build must
 * make it), installed from the tarball into an empty project with dependencies from the npm cache, and
 * called from an ES module consumer, a CommonJS consumer and the `extpoint` command.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The same steps the CI runs (a plain JavaScript script).
import { packFreshCheckout, installTarball, consumerSource, EXPECTED } from '../.ci/package-check.mjs';

const run = promisify(execFile);

let tmp: string;
let app: string;
let files: string[];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'extpoint-pack-'));
  const packed = (await packFreshCheckout(tmp)) as { tarball: string; files: string[] };
  files = packed.files;
  app = join(tmp, 'app');
  await installTarball(packed.tarball, app);
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the built code, its types and the license, and no sources or tests', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/register.js');
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('LICENSE');
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/'))).toEqual([]);
  });

  it('has source maps that carry the sources they point at', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const m = JSON.parse(readFileSync(join(app, 'node_modules/extpoint', map), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(m.sourcesContent?.length, map).toBe(m.sources.length);
      for (const content of m.sourcesContent!) expect(typeof content, map).toBe('string');
    }
  });

  it('declares its dependencies with caret ranges and an MIT license', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/extpoint/package.json'), 'utf8')) as {
      license: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.license).toBe('MIT');
    for (const [name, range] of Object.entries(pkg.dependencies)) expect(range, name).toMatch(/^\^\d/);
    expect(readFileSync(join(app, 'node_modules/extpoint/LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });
});

describe('an installed extpoint answers calls', () => {
  const consumer = consumerSource as (load: string) => string;
  const expected = EXPECTED as unknown[];

  it('from an ES module consumer', async () => {
    writeFileSync(join(app, 'esm.mjs'), consumer(`import { createExtension } from 'extpoint';`));
    const { stdout, stderr } = await run(process.execPath, ['esm.mjs'], { cwd: app });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('from a CommonJS consumer (require)', async () => {
    writeFileSync(join(app, 'cjs.cjs'), consumer(`const { createExtension } = require('extpoint');`));
    const { stdout, stderr } = await run(process.execPath, ['cjs.cjs'], { cwd: app });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('with extpoint/register, which finds ES module plugins', async () => {
    writeFileSync(join(app, 'tax.mjs'), `export const shop_price_Plugin = (cents) => cents * 2;\n`);
    writeFileSync(
      join(app, 'host.mjs'),
      `import { createExtension } from 'extpoint';
import './tax.mjs';
const ext = createExtension();
ext.registerModule('shop', { shop_price_Extension() {} });
await ext.start();
console.log(JSON.stringify(ext.callPluginsSync('shop', 'price', 21)));
`,
    );
    const { stdout, stderr } = await run(process.execPath, ['--import', 'extpoint/register', 'host.mjs'], { cwd: app });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('as the extpoint command', async () => {
    const { stdout } = await run(join(app, 'node_modules/.bin/extpoint'), ['--help'], { cwd: app });
    expect(stdout).toMatch(/^Usage: extpoint/);
  });
});
