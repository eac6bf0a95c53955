/**
 * Worker nodes between runs, with real worker threads: calls made while a node is restarting answer
 * `ENODEDOWN` at once (they are not queued, and do not cross), the restart count a state file kept is
 * carried on by the next process's nodes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, type Extension, type NodeDirOptions, type NodeEvent, type PluginResult } from '../src/index.js';

let base: string;
let sandbox: string;
let ext: Extension | null = null;
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
  base = await mkdtemp(join(tmpdir(), 'ep-nodes-life-'));
  sandbox = join(base, 'sandbox');
  await mkdir(sandbox);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function make(options: Partial<NodeDirOptions> = {}, stateFile?: string): Extension {
  ext = createExtension({
    scanLoaded: false,
    watch: false,
    ...(stateFile === undefined ? {} : { stateFile }),
    pluginDirs: [{ path: sandbox, node: 'sandbox', isolation: 'worker', callTimeoutMs: 5000, ...options }],
  });
  return ext;
}

function next(e: Extension, event: 'nodeUp' | 'nodeDown'): Promise<NodeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within 15 s: ${JSON.stringify(e.report().nodes)}`)), 15_000);
    e.once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

const code = (r: PluginResult | undefined) => (r?.data as { code?: string } | undefined)?.code;
const row = (e: Extension) => e.report().nodes.find((n) => n.node === 'sandbox')!;

const PLUGINS = `
export function app_ok_Plugin() { return 'fine'; }
export function app_ok2_Plugin() { return 'fine too'; }
export function app_exit_Plugin() { process.exit(3); }
export function app_chain_Plugin(s) { return s + 1; }
`;

describe('worker nodes across restarts', () => {
  it('calls made while the node is restarting answer ENODEDOWN at once, without crossing; then it answers again', async () => {
    await writeFile(join(sandbox, 'f.mjs'), PLUGINS);
    await writeFile(join(sandbox, 'g.mjs'), `export function app_ok_Plugin() { return 'g'; }\n`);
    // the first backoff (100 ms) leaves the node restarting while the calls below are made
    const e = make({ restart: { intensity: 5, periodMs: 60_000 } });
    await e.start();
    const down = next(e, 'nodeDown');
    const [exit] = await e.callPlugins('app', 'exit');
    expect(code(exit)).toBe('ENODEDOWN');
    expect(await down).toMatchObject({ status: 'restarting' });
    const up = next(e, 'nodeUp');
    expect(row(e).status).toBe('restarting');
    const crossed = row(e).calls;

    const calls = await Promise.all([e.callPlugins('app', 'ok'), e.callPlugins('app', 'ok', undefined, { parallel: true })]);
    for (const results of calls) {
      expect(results.map((r) => [r.info.module, r.state, code(r)])).toEqual([
        ['f', 'EXIT', 'ENODEDOWN'],
        ['g', 'EXIT', 'ENODEDOWN'],
      ]);
      expect((results[0]!.data as Error).message).toMatch(/node "sandbox" is restarting: the worker exited with code 3/);
    }
    const input = { n: 1 };
    expect(await e.pipe('app', 'chain', input)).toBe(input);
    expect(row(e).calls).toBe(crossed);
    expect(row(e).status).toBe('restarting');

    await up;
    expect((await e.callPlugins('app', 'ok')).map((r) => r.data)).toEqual(['fine', 'g']);
    expect(await e.pipe('app', 'chain', 1)).toBe(2);
    const counts = Object.fromEntries(e.report().plugins.map((p) => [`${p.module}.${p.fn}`, [p.ok, p.exit]]));
    expect(counts).toMatchObject({ 'f.app_ok_Plugin': [1, 2], 'g.app_ok_Plugin': [1, 2], 'f.app_chain_Plugin': [1, 1], 'f.app_exit_Plugin': [0, 1] });
  });

  it('the restart count a state file kept is carried on by the next process\'s node', async () => {
    await writeFile(join(sandbox, 'f.mjs'), PLUGINS);
    const stateFile = join(base, 'state.json');
    for (let run = 1; run <= 2; run++) {
      const e = make({}, stateFile);
      await e.start();
      expect(row(e).restarts).toBe(run - 1);
      const up = next(e, 'nodeUp');
      await e.callPlugins('app', 'exit');
      await up;
      expect(row(e).restarts).toBe(run);
      await e.stop();
      ext = null;
      expect(JSON.parse(await readFile(stateFile, 'utf8')).nodeRestarts).toEqual({ sandbox: run });
    }
  });
});
