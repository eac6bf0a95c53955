/** Plugin files on disk for the folder cases: written once by the orchestrator, read by the children. */
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pluginModule } from './fixtures.js';

/** A fresh temp folder for one case. */
export function tempFolder(name) {
  return mkdtempSync(path.join(tmpdir(), `extpoint-bench-${name}-`));
}

export function removeFolder(dir) {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * Writes `count` CommonJS plugin files into `dir` (plug00000.js ...), one plugin each, and a package.json
 * that says they are CommonJS. The plugins all plug into `host.p`, or with `spread` file i plugs into
 * its own point `host.p<i>`. Returns their paths, in name order.
 */
export function writePluginFiles(dir, count, { spread = false } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const files = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `${pluginModule(i)}.js`);
    const point = spread ? `p${i}` : 'p';
    writeFileSync(file, `'use strict';\nexports.host_${point}_Plugin = function (a) { return a.n + ${i}; };\n`);
    files.push(file);
  }
  return files;
}

/**
 * The source of version `v` of the plugin module `hot` in the given format. Its plugin returns `v`.
 * With `megabytes`, loading it allocates that much on the JS heap (an array of doubles the plugin keeps).
 */
export function hotSource(format, v, megabytes = 0) {
  const alloc =
    megabytes > 0
      ? `const big = new Array(${megabytes * 131072});\nfor (let i = 0; i < big.length; i++) big[i] = i + 0.5;\n`
      : 'const big = [0];\n';
  const fn = `function (a) { return big[0] >= 0 ? ${v} : -1; }`;
  return format === 'esm'
    ? `${alloc}export const host_p_Plugin = ${fn};\n`
    : `'use strict';\n${alloc}exports.host_p_Plugin = ${fn};\n`;
}
