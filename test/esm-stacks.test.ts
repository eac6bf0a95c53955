/**
 * ES module plugin files are converted to CommonJS before they run; their stack traces and load errors
 * must still name the plugin file's own lines and columns, not those of the converted code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, type Extension } from '../src/index.js';

const run = promisify(execFile);

let dir: string;
let ext: Extension;
beforeEach(async () => {
  dir = realpathSync(await mkdtemp(join(tmpdir(), 'ep-esm-stacks-')));
});
afterEach(async () => {
  await ext?.stop();
  await rm(dir, { recursive: true, force: true });
});

// Imports, comments and exports in front of the code: the converted file's lines and columns differ.
const PLUGIN = `import { join } from 'node:path';
import { readFileSync } from 'node:fs';

/** Checks a price. */
export const limit = 1000;

function check(cents) {
  if (cents > limit) {
      throw new RangeError('too dear: ' + join('a', String(cents)));
  }
  return cents;
}

export function shop_price_Plugin(cents) {
  return typeof readFileSync === 'function' ? check(cents) : 0;
}
`;
/** Where the error is made (line 9, "new" at column 13), and where check() is called (line 15, column 47). */
const THROW_AT = ':9:13';
const CALL_AT = ':15:47';

async function start(): Promise<Extension> {
  ext = createExtension({ scanLoaded: false, pluginDirs: [dir], watch: false, checkPermissions: false });
  ext.registerModule('shop', { shop_price_Extension() {} });
  await ext.start();
  return ext;
}

describe('stack traces of ES module plugins', () => {
  for (const name of ['tax.mjs', 'tax.js']) {
    it(`name the plugin file's own lines and columns (${name})`, async () => {
      const file = join(dir, name);
      await writeFile(file, PLUGIN);
      await start();
      const [result] = ext.callPluginsSync('shop', 'price', 5000);
      expect(result?.state).toBe('EXIT');
      const stack = (result!.data as Error).stack!;
      const frames = stack.split('\n').filter((line) => line.includes(file));
      expect(frames[0]).toContain(`check (${file}${THROW_AT})`);
      expect(frames[1]).toContain(`${file}${CALL_AT})`);
    });
  }

  it('keep the error text and the frames outside the plugin as they were', async () => {
    await writeFile(join(dir, 'tax.mjs'), PLUGIN);
    await start();
    const data = ext.callPluginsSync('shop', 'price', 5000)[0]!.data as Error;
    const lines = data.stack!.split('\n');
    expect(lines[0]).toBe(`RangeError: too dear: ${join('a', '5000')}`);
    expect(lines.slice(1).every((line) => line.startsWith('    at '))).toBe(true);
  });

  it('name the right lines after a reload that moved them', async () => {
    const file = join(dir, 'tax.mjs');
    await writeFile(file, PLUGIN);
    await start();
    await writeFile(file, '// one more line\n' + PLUGIN);
    await ext.rescan();
    const stack = (ext.callPluginsSync('shop', 'price', 5000)[0]!.data as Error).stack!;
    expect(stack).toContain(`check (${file}:10:13)`);
  });
});

describe('load errors of ES module plugins', () => {
  it("name the plugin file's own line and column when it throws while loading", async () => {
    const file = join(dir, 'boom.mjs');
    await writeFile(
      file,
      `import { join } from 'node:path';\n\nexport const shop_price_Plugin = () => 1;\nconst at = join('a', 'b');\nif (at) {\n  null.x;\n}\n`,
    );
    await start();
    const errors = ext.report().status.loadErrors;
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(`${file} threw while loading at line 6:8`);
  });
});

describe('in a host process', () => {
  it("an uncaught error thrown later by a plugin (in a timer) names the plugin file's lines", async () => {
    const plugins = join(dir, 'plugins');
    await mkdir(plugins);
    const plugin = join(plugins, 'late.mjs');
    await writeFile(
      plugin,
      `import { join } from 'node:path';\n\nexport function shop_late_Plugin() {\n  setTimeout(() => {\n    throw new Error(join('late', 'boom'));\n  }, 1);\n}\n`,
    );
    const host = join(dir, 'host.mjs');
    const index = pathToFileURL(resolve(import.meta.dirname, '../dist/index.js')).href;
    await writeFile(
      host,
      `import { createExtension } from ${JSON.stringify(index)};
const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}], watch: false, checkPermissions: false });
ext.registerModule('shop', { shop_late_Extension() {} });
await ext.start();
ext.callPluginsSync('shop', 'late');
`,
    );
    const failed = await run(process.execPath, [host]).then(
      () => null,
      (err: { stderr: string }) => err,
    );
    expect(failed?.stderr).toContain(`at Timeout._onTimeout (${plugin}:5:11)`);
  });

  it("hands mapped frames on to a stack formatter the host installed before, and leaves other stacks to it", async () => {
    const plugins = join(dir, 'plugins');
    await mkdir(plugins);
    const plugin = join(plugins, 'tax.mjs');
    await writeFile(plugin, PLUGIN);
    const host = join(dir, 'host.mjs');
    const index = pathToFileURL(resolve(import.meta.dirname, '../dist/index.js')).href;
    await writeFile(
      host,
      `Error.prepareStackTrace = (error, sites) =>
  'host format: ' + sites.filter((s) => s.getFileName()?.endsWith('tax.mjs')).map((s) => s.getFunctionName() + '@' + s.getLineNumber() + ':' + s.getColumnNumber()).join(' ');
const { createExtension } = await import(${JSON.stringify(index)});
const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}], watch: false, checkPermissions: false });
ext.registerModule('shop', { shop_price_Extension() {} });
await ext.start();
console.log(ext.callPluginsSync('shop', 'price', 5000)[0].data.stack);
console.log(new Error('own').stack);
`,
    );
    const { stdout } = await run(process.execPath, [host]);
    const [plugin_, own] = stdout.trim().split('\n');
    expect(plugin_).toBe('host format: check@9:13 shop_price_Plugin@15:47');
    expect(own).toBe('host format:');
  });
});
