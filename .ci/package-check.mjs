#!/usr/bin/env node
/**
 * The package as users get it. Copies what a fresh clone holds into a temp folder (no dist/), packs it
 * with `npm pack` (whose `prepare` script must build dist/), installs the tarball into an empty project
 * and calls a point through it from an ES module, a CommonJS module and the `extpoint` command.
 *
 * The install is offline: the empty project gets a lock file made from this repository's lock (the
 * tarball plus the locked versions of extpoint's runtime dependencies), so `npm ci --offline` takes them
 * from the npm cache that this repository's own `npm ci` filled.
 *
 * `node .ci/package-check.mjs` prints one line per check and exits 1 on the first failure. The test
 * test/package.test.ts imports the same steps.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** What a fresh clone holds that packing needs (tests, demo and bench are not part of the package). */
const CHECKOUT = ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'LICENSE', 'src'];

/** Runs npm in `cwd` and returns its standard output; a failure's error carries npm's output. */
async function npm(cwd, args) {
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const { stdout } = await run('npm', args, { cwd, env, maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * Copies a fresh checkout into `tmp/checkout` (with this repository's installed node_modules, as
 * `npm ci` would give it) and packs it into `tmp`. Returns the tarball's path and the packed file list.
 */
export async function packFreshCheckout(tmp) {
  const fresh = join(tmp, 'checkout');
  for (const entry of CHECKOUT) cpSync(join(ROOT, entry), join(fresh, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(fresh, 'node_modules'), 'dir');
  const [packed] = JSON.parse(await npm(fresh, ['pack', '--json', '--pack-destination', tmp]));
  return { tarball: join(tmp, packed.filename), files: packed.files.map((f) => f.path) };
}

/**
 * Makes an empty project `app` that depends on the tarball only, and installs it offline: the lock file
 * names the tarball and, for its dependencies, the entries of this repository's lock that are not dev-only.
 */
export async function installTarball(tarball, app) {
  mkdirSync(app, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const ours = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const spec = `file:${relative(app, tarball)}`;
  const manifest = { name: 'app', version: '1.0.0', private: true, dependencies: { [pkg.name]: spec } };
  const packages = {
    '': { name: 'app', version: '1.0.0', dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(ours.packages)) {
    if (path !== '' && entry.dev !== true) packages[path] = entry;
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  await npm(app, ['ci', '--offline']);
}

/** A consumer that registers a point and a plugin and prints the results of one call, as JSON. */
export function consumerSource(load) {
  return `${load}
const ext = createExtension();
ext.registerModule('shop', { shop_price_Extension() {} });
ext.registerModule('tax', { shop_price_Plugin: (cents) => cents * 2 });
console.log(JSON.stringify(ext.callPluginsSync('shop', 'price', 21)));
`;
}

/** What every consumer prints. */
export const EXPECTED = [{ state: 'ok', info: { node: 'local', module: 'tax', fn: 'shop_price_Plugin' }, data: 42 }];

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'extpoint-pack-'));
  try {
    const { tarball, files } = await packFreshCheckout(tmp);
    const panelAssets = ['panel.html', 'panel.js', 'panel.css', 'login.js'].map((f) => `dist/panel/assets/${f}`);
    const adapters = ['dist/trace/otel.js', 'dist/trace/prometheus.js'];
    for (const must of ['dist/index.js', 'dist/register.js', 'dist/cli.js', 'LICENSE', ...panelAssets, ...adapters]) {
      if (!files.includes(must)) throw new Error(`the packed package lacks ${must}`);
    }
    console.log(`packed ${files.length} files into ${tarball}`);
    const app = join(tmp, 'app');
    await installTarball(tarball, app);
    console.log('installed the tarball into an empty project, offline');
    const consumers = {
      'esm.mjs': consumerSource(`import { createExtension } from 'extpoint';`),
      'cjs.cjs': consumerSource(`const { createExtension } = require('extpoint');`),
    };
    for (const [file, source] of Object.entries(consumers)) {
      writeFileSync(join(app, file), source);
      const { stdout, stderr } = await run(process.execPath, [file], { cwd: app });
      if (stderr !== '') throw new Error(`${file} wrote to stderr: ${stderr}`);
      if (JSON.stringify(JSON.parse(stdout)) !== JSON.stringify(EXPECTED)) throw new Error(`${file} printed ${stdout}`);
      console.log(`${file}: a call through the installed package answered`);
    }
    // The panel's assets are read from dist/panel/assets next to the installed code.
    writeFileSync(
      join(app, 'panel.mjs'),
      `import { createExtension } from 'extpoint';
const ext = createExtension({ scanLoaded: false });
const panel = await ext.servePanel();
const res = await fetch(new URL('/panel.js', panel.url), { headers: { 'x-extpoint-token': panel.token } });
console.log(res.status, (await res.text()).length > 0);
await ext.stop();
`,
    );
    const served = (await run(process.execPath, ['panel.mjs'], { cwd: app })).stdout.trim();
    if (served !== '200 true') throw new Error(`the installed package's web panel answered ${served} for /panel.js`);
    console.log('panel.mjs: the installed package serves the web panel and its assets');
    // The adapters are subpaths whose optional peers the app has not installed: each resolves, and fails
    // only for want of its peer, while the main entry (above) never needed them.
    for (const [subpath, peer] of [['extpoint/otel', '@opentelemetry/api'], ['extpoint/prometheus', 'prom-client']]) {
      writeFileSync(join(app, 'adapter.mjs'), `import(${JSON.stringify(subpath)}).then(() => console.log('loaded'), (e) => console.log(e.code, e.message));\n`);
      const out = (await run(process.execPath, ['adapter.mjs'], { cwd: app })).stdout.trim();
      if (!out.startsWith('ERR_MODULE_NOT_FOUND') || !out.includes(`'${peer}'`)) throw new Error(`import('${subpath}') without ${peer} printed ${out}`);
      console.log(`${subpath}: exported, and asks for its optional peer ${peer}`);
    }
    const { stdout } = await run(join(app, 'node_modules/.bin/extpoint'), ['--help'], { cwd: app });
    if (!stdout.startsWith('Usage: extpoint')) throw new Error(`extpoint --help printed ${stdout}`);
    console.log('extpoint --help: the command runs');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`package check failed: ${err.stack ?? err}`);
    process.exit(1);
  });
}
