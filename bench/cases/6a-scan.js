/**
 * Case 6a: a cold start on a plugin folder. extpoint walks the folder, checks permissions,
 * loads every file and registers its plugin; the anchor is plain `require` of the very same files, in
 * one process, given their paths. Each run is a fresh process: nothing is cached but the OS's file cache,
 * which both contestants share alike.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { createExtension } from '../../dist/index.js';
import { writePluginFiles, tempFolder, removeFolder } from '../lib/files.js';
import { pluginModule, ARGS } from '../lib/fixtures.js';

export const id = '6a';
export const title = 'Plugin folder: cold scan';
export const description = 'start() on a folder of one-plugin CommonJS files, against require() of the same files';
export const unit = 'ms';

/** Folder sizes: the issue's, or small ones for --quick. */
function sizes(quick) {
  return quick ? [100, 1000] : [1000, 10_000];
}

const fmt = (n) => n.toLocaleString('en-US');

/** Two layouts: every file plugs into the same point, or each file into a point of its own. */
const LAYOUTS = [
  { name: 'one', text: 'one point' },
  { name: 'spread', text: 'a point each' },
];

export function variants({ quick }) {
  return sizes(quick).flatMap((n) =>
    LAYOUTS.flatMap(({ name, text }) => [
      { key: `scan-${name}-${n}`, label: `extpoint start(), ${fmt(n)} files, ${text}`, ratioTo: `require-${name}-${n}` },
      { key: `require-${name}-${n}`, label: `plain require, ${fmt(n)} files, ${text}`, ratioTo: `require-${name}-${n}` },
    ]),
  );
}

export function goals({ quick }) {
  const n = sizes(quick)[1];
  return LAYOUTS.map(({ name, text }) => ({
    text: `cold scan of ${fmt(n)} files (${text}) within 1.3x of require`,
    variant: `scan-${name}-${n}`,
    against: `require-${name}-${n}`,
    op: '<=',
    limit: 1.3,
  }));
}

export async function prepare({ quick }) {
  const root = tempFolder('scan');
  for (const n of sizes(quick)) {
    for (const { name } of LAYOUTS) writePluginFiles(path.join(root, `${name}-${n}`), n, { spread: name === 'spread' });
  }
  return { root };
}

export function cleanup({ root }) {
  removeFolder(root);
}

/** How many plugins answer: on the one point, or on each file's own point. */
function answering(ext, layout, n) {
  if (layout === 'one') return ext.callPluginsSync('host', 'p', ARGS).filter((r) => r.state === 'ok').length;
  let count = 0;
  for (let i = 0; i < n; i++) count += ext.callPluginsSync('host', `p${i}`, ARGS).length;
  return count;
}

export async function run(key, { root }) {
  const [kind, layout, size] = key.split('-');
  const n = Number(size);
  const dir = path.join(root, `${layout}-${n}`);
  let ms;
  let plugins;
  if (kind === 'scan') {
    const t0 = process.hrtime.bigint();
    const ext = createExtension({ scanLoaded: false, pluginDirs: [dir], watch: false });
    await ext.start();
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
    plugins = answering(ext, layout, n);
    const errors = ext.report().status.loadErrors;
    if (errors.length > 0) throw new Error(`scan gave load errors: ${JSON.stringify(errors.slice(0, 3))}`);
    await ext.stop();
  } else {
    const files = Array.from({ length: n }, (_, i) => path.join(dir, `${pluginModule(i)}.js`));
    const require = createRequire(path.join(dir, 'index.js'));
    const loaded = [];
    const t0 = process.hrtime.bigint();
    for (const file of files) loaded.push(require(file));
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
    plugins = loaded.filter((m, i) => (layout === 'one' ? m.host_p_Plugin : m[`host_p${i}_Plugin`])(ARGS) >= 0).length;
  }
  if (plugins !== n) throw new Error(`${key} reached ${plugins} plugins, not ${n}`);
  return { value: ms, extra: { files: n } };
}
