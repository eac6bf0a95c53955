/**
 * The process `extpoint check` loads plugin folders in (see check.ts). Run as
 * `node check-child.js CHECK_PERMISSIONS REFUSED_JSON DIR...`; it loads the folders the way a host would,
 * refusing the files in REFUSED_JSON (`[file, reason][]`), and writes one JSON line per event to file
 * descriptor 3: `{"loading":file}` before each plugin file's top-level code runs, `{"loaded":file}` after it,
 * and `{"result":...}` at the end. The writes are synchronous, so that the line naming the file that was
 * loading is out before a `process.exit()` in that file ends this process.
 */
import { writeSync } from 'node:fs';
import { createExtension } from './index.js';
import { LOAD_GUARD, type LoadGuard } from './modules/load-guard.js';
import type { ExtensionOptions } from './extension-options.js';
import type { CheckResult } from './check.js';

const CHANNEL = 3;

/** Writes `line` whole to the parent, waiting while the pipe is full. */
function tell(message: unknown): void {
  const bytes = Buffer.from(JSON.stringify(message) + '\n');
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(CHANNEL, bytes, at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

async function main(): Promise<void> {
  const [permissions, refusedJson, ...dirs] = process.argv.slice(2);
  const refused = new Map(JSON.parse(refusedJson!) as [string, string][]);
  const guard: LoadGuard = {
    loading(file) {
      const reason = refused.get(file);
      if (reason !== undefined) return reason;
      tell({ loading: file });
      return null;
    },
    loaded(file) {
      tell({ loaded: file });
    },
  };
  const options: ExtensionOptions & { [LOAD_GUARD]: LoadGuard } = {
    scanLoaded: false,
    pluginDirs: dirs,
    watch: false,
    checkPermissions: permissions !== 'false',
    [LOAD_GUARD]: guard,
  };
  const ext = createExtension(options);
  await ext.start();
  const report = ext.report();
  const result: CheckResult = {
    status: { loadErrors: report.status.loadErrors.map(({ module, file, export: name, message }) => ({ module, file, export: name, message })) },
    plugins: report.plugins.map(({ module, fn, heldBy }) => ({ module, fn, heldBy })),
    points: report.points.map(({ module, fn }) => ({ module, fn })),
  };
  tell({ result });
  await ext.stop('extpoint check done');
}

main().catch((err: unknown) => {
  process.stderr.write(`extpoint check: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
