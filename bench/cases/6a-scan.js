/**
 * Case 6a: a cold start on a plugin folder. extpoint scans the folder (fast-glob), checks permissions,
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

export function variants({ quick }) {
  return sizes(quick).flatMap((n) => [
    { key: `scan${n}`, label: `extpoint start(), ${fmt(n)} files`, ratioTo: `require${n}` },
    { key: `require${n}`, label: `plain require, ${fmt(n)} files`, ratioTo: `require${n}` },
  ]);
}

export function goals({ quick }) {
  const n = sizes(quick)[1];
  return [
    { text: `cold scan of ${fmt(n)} files within 1.3x of require`, variant: `scan${n}`, against: `require${n}`, op: '<=', limit: 1.3 },
  ];
}

export async function prepare({ quick }) {
  const root = tempFolder('scan');
  for (const n of sizes(quick)) writePluginFiles(path.join(root, `f${n}`), n);
  return { root };
}

export function cleanup({ root }) {
  removeFolder(root);
}

export async function run(key, { root }) {
  const n = Number(/\d+$/.exec(key)[0]);
  const dir = path.join(root, `f${n}`);
  let ms;
  let plugins;
  if (key.startsWith('scan')) {
    const t0 = process.hrtime.bigint();
    const ext = createExtension({ scanLoaded: false, pluginDirs: [dir], watch: false });
    await ext.start();
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
    plugins = ext.callPluginsSync('host', 'p', ARGS).filter((r) => r.state === 'ok').length;
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
    plugins = loaded.filter((m) => m.host_p_Plugin(ARGS) >= 0).length;
  }
  if (plugins !== n) throw new Error(`${key} reached ${plugins} plugins, not ${n}`);
  return { value: ms, extra: { files: n } };
}
