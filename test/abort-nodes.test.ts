/**
 * `signal` with plugins on a worker node, in real worker threads: aborting makes the worker plugin's entry
 * EABORT in the host at once, though the worker keeps running it; its late answer changes nothing, and
 * the node carries on. The signal does not cross to the worker: its plugins get one argument.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, isExtpointError, EABORT, type Extension } from '../src/index.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

let base: string;
let local: string;
let sandbox: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-abort-nodes-'));
  local = join(base, 'plugins');
  sandbox = join(base, 'untrusted');
  await mkdir(local);
  await mkdir(sandbox);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

describe('signal and worker nodes', () => {
  it("ends a worker plugin's entry with EABORT in the host while the worker keeps running it", async () => {
    await writeFile(join(local, 'near.mjs'), `export function app_work_Plugin(n) { return 'near ' + n; }\n`);
    await writeFile(
      join(sandbox, 'far.mjs'),
      `export let finished = 0;\n` +
        `export function app_work_Plugin(n) { return new Promise((resolve) => setTimeout(() => { finished++; resolve('far ' + n); }, 300)); }\n` +
        `export function app_finished_Plugin() { return finished; }\n` +
        `export function app_args_Plugin(...args) { return args.length; }\n`,
    );
    ext = createExtension({
      scanLoaded: false,
      watch: false,
      pluginDirs: [local, { path: sandbox, node: 'sandbox', isolation: 'worker', callTimeoutMs: 5000 }],
    });
    await ext.start();
    const e = ext;

    await noUnhandledRejections(async () => {
      for (const parallel of [false, true]) {
        const controller = new AbortController();
        const call = e.callPlugins('app', 'work', 1, { signal: controller.signal, parallel });
        await sleep(30);
        controller.abort(new Error('request closed'));
        const results = await call;
        expect(results.map((r) => [r.info.node, r.info.module, r.state, r.state === 'ok' ? r.data : (r.data as { code?: string }).code])).toEqual([
          ['sandbox', 'far', 'EXIT', EABORT],
          ['local', 'near', parallel ? 'ok' : 'EXIT', parallel ? 'near 1' : EABORT],
        ]);
        const far = results[0]!.data as Error;
        expect(isExtpointError(far, EABORT)).toBe(true);
        expect((far.cause as Error).message).toBe('request closed');
      }
      // the worker ran both calls to their end; their late answers changed nothing, and the node is up
      const finished = async () => (await e.callPlugins('app', 'finished'))[0]!;
      while ((await finished()).data !== 2) await sleep(20);
      expect(await finished()).toMatchObject({ state: 'ok', info: { node: 'sandbox' } });
      expect(e.report().plugins.filter((p) => p.fn === 'app_work_Plugin').map((p) => [p.module, p.ok, p.exit])).toEqual([
        ['far', 0, 2],
        ['near', 1, 1],
      ]);
      expect(e.report().nodes!.find((n) => n.node === 'sandbox')!.status).toBe('up');
    });

    // the signal stays in the host: a worker plugin gets its argument alone
    const [args] = await e.callPlugins('app', 'args', 1, { signal: new AbortController().signal });
    expect(args).toMatchObject({ state: 'ok', data: 1 });
  });
});
