/**
 * Faults of worker nodes, with real worker threads: each gives EXIT results to the calls in flight (never
 * a host crash) and a supervised restart; past the restart intensity the node stays down until
 * restartNode or a change in its folder. Events are awaited, never slept for.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, ENODEDOWN, isExtpointError, type Extension, type NodeDirOptions, type NodeEvent, type PluginResult } from '../src/index.js';
import { noUnhandledRejections } from './helpers/unhandled.js';

let base: string;
let sandbox: string;
let ext: Extension | null = null;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-node-faults-'));
  sandbox = join(base, 'untrusted');
  await mkdir(sandbox);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

function make(options: Partial<NodeDirOptions> = {}, watch = false, stateFile?: string): Extension {
  ext = createExtension({
    scanLoaded: false,
    watch,
    ...(stateFile === undefined ? {} : { stateFile }),
    pluginDirs: [{ path: sandbox, node: 'sandbox', isolation: 'worker', callTimeoutMs: 2000, ...options }],
  });
  return ext;
}

function next(e: Extension, event: 'nodeUp' | 'nodeDown', timeoutMs = 15_000): Promise<NodeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms: ${JSON.stringify(e.report().nodes)}`)), timeoutMs);
    e.once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

const code = (r: PluginResult | undefined) => (r?.data as { code?: string } | undefined)?.code;
const message = (r: PluginResult | undefined) => String((r?.data as { message?: string } | undefined)?.message);

const FAULTS = `
export function app_ok_Plugin() { return 'fine'; }
export function app_spin_Plugin() { for (;;) {} }
export function app_exit_Plugin() { process.exit(3); }
export function app_throwLater_Plugin() { setTimeout(() => { throw new Error('boom later'); }); return new Promise(() => {}); }
export function app_reject_Plugin() { Promise.reject(new Error('nobody catches me')); return new Promise(() => {}); }
export function app_oom_Plugin() { const keep = []; for (;;) keep.push(new Array(100000).fill({ x: keep.length })); }
`;

describe('worker node faults', () => {
  it('a call past callTimeoutMs gives ETIMEOUT, the worker is terminated and restarted', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'f.mjs'), FAULTS);
      const e = make({ callTimeoutMs: 300 });
      await e.start();
      const down = next(e, 'nodeDown');
      const up = next(e, 'nodeUp');
      const [spin] = await e.callPlugins('app', 'spin');
      expect(spin!.state).toBe('EXIT');
      expect(code(spin)).toBe('ETIMEOUT');
      expect(await down).toMatchObject({ node: 'sandbox', status: 'restarting' });
      await up;
      expect((await e.callPlugins('app', 'ok'))[0]).toMatchObject({ state: 'ok', data: 'fine' });
      const row = e.report().nodes.find((n) => n.node === 'sandbox')!;
      expect(row.restarts).toBe(1);
      expect(row.lastReasons[0]).toMatch(/callTimeoutMs \(300 ms\)/);
    }));

  it("a state file keeps the node's restart count", async () => {
    await writeFile(join(sandbox, 'f.mjs'), FAULTS);
    const stateFile = join(base, 'state.json');
    const e = make({ callTimeoutMs: 300 }, false, stateFile);
    await e.start();
    const up = next(e, 'nodeUp');
    await e.callPlugins('app', 'spin');
    await up;
    await e.stop();
    ext = null;
    expect(JSON.parse(await readFile(stateFile, 'utf8')).nodeRestarts).toEqual({ sandbox: 1 });
  });

  it.each([
    ['exit', /exited with code 3/],
    ['throwLater', /uncaught in the worker: Error: boom later/],
    ['reject', /nobody catches me/],
  ])('%s in a plugin gives ENODEDOWN with the reason, and a restart', (point, reason) =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'f.mjs'), FAULTS);
      const e = make();
      await e.start();
      const up = next(e, 'nodeUp');
      const [r] = await e.callPlugins('app', point);
      expect(code(r)).toBe('ENODEDOWN');
      expect(isExtpointError(r!.data, ENODEDOWN)).toBe(true);
      expect(message(r)).toMatch(reason);
      await up;
      expect((await e.callPlugins('app', 'ok'))[0]!.state).toBe('ok');
      expect(e.report().status.exitReasons.find((x) => x.fn === `app_${point}_Plugin`)).toBeDefined();
    }));

  it('out of memory under resourceLimits ends only the worker: ENODEDOWN, then a restart', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'f.mjs'), FAULTS);
      const e = make({ resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 }, callTimeoutMs: 20_000 });
      await e.start();
      const up = next(e, 'nodeUp');
      const [r] = await e.callPlugins('app', 'oom');
      expect(code(r)).toBe('ENODEDOWN');
      expect(message(r)).toMatch(/ERR_WORKER_OUT_OF_MEMORY|out of memory/i);
      await up;
      expect((await e.callPlugins('app', 'ok'))[0]!.state).toBe('ok');
    }));

  it('concurrent calls while the node crashes: every call returns, counters exact', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'f.mjs'), FAULTS + `export function app_slow_Plugin(n) { return new Promise((r) => setTimeout(() => r(n), 50)); }\n`);
      const e = make();
      await e.start();
      const calls = Array.from({ length: 20 }, (_, i) => e.callPlugins('app', 'slow', i));
      const crash = e.callPlugins('app', 'exit');
      const results = (await Promise.all(calls)).map((r) => r[0]!);
      expect(code((await crash)[0])).toBe('ENODEDOWN');
      expect(results).toHaveLength(20);
      for (const r of results) expect(r.state === 'ok' || code(r) === 'ENODEDOWN').toBe(true);
      const row = e.report().plugins.find((p) => p.fn === 'app_slow_Plugin')!;
      expect(row.ok + row.exit).toBe(20);
      expect(row.ok).toBe(results.filter((r) => r.state === 'ok').length);
    }));

  it('past the restart intensity the node stays down; flags set meanwhile apply when restartNode brings it back', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'f.mjs'), FAULTS);
      await writeFile(join(sandbox, 'other.mjs'), `export function app_ok_Plugin() { return 'other'; }\n`);
      const e = make({ restart: { intensity: 1, periodMs: 60_000 } });
      await e.start();
      let up = next(e, 'nodeUp');
      expect(code((await e.callPlugins('app', 'exit'))[0])).toBe('ENODEDOWN');
      await up;
      const down = next(e, 'nodeDown');
      expect(code((await e.callPlugins('app', 'exit'))[0])).toBe('ENODEDOWN');
      expect(await down).toMatchObject({ status: 'down' });
      expect(e.report().nodes[1]!.status).toBe('down');
      // Down: the plugins answer ENODEDOWN at once.
      const answers = await e.callPlugins('app', 'ok');
      expect(answers.map(code)).toEqual(['ENODEDOWN', 'ENODEDOWN']);
      expect(e.disablePlugin('other', 'app', 'ok')).toBe('applied');

      up = next(e, 'nodeUp');
      await e.restartNode('sandbox');
      await up;
      const after = await e.callPlugins('app', 'ok');
      expect(after.map((r) => [r.info.module, r.state, r.data])).toEqual([['f', 'ok', 'fine']]);
      await expect(e.restartNode('nope')).rejects.toThrow(/no worker node of that name \(worker nodes: "sandbox"\)/);
    }));

  it('an endless loop at a file\'s top level: restarts, then down; fixing the file brings the node back', () =>
    noUnhandledRejections(async () => {
      await writeFile(join(sandbox, 'loop.mjs'), `export function app_ok_Plugin() { return 1; }\nfor (;;) {}\n`);
      const e = make({ startTimeoutMs: 2000, restart: { intensity: 1, periodMs: 60_000 } }, true);
      const downs: NodeEvent[] = [];
      e.on('nodeDown', (d) => downs.push(d));
      const finallyDown = new Promise<void>((resolve) => e.on('nodeDown', (d) => d.status === 'down' && resolve()));
      await e.start();
      await finallyDown;
      expect(downs.map((d) => d.status)).toEqual(['restarting', 'down']);
      expect(downs[0]!.reason).toMatch(/did not finish loading within 2000 ms/);
      const up = next(e, 'nodeUp');
      await writeFile(join(sandbox, 'loop.mjs'), `export function app_ok_Plugin() { return 'fixed'; }\n`);
      await up;
      expect((await e.callPlugins('app', 'ok'))[0]).toMatchObject({ state: 'ok', data: 'fixed', info: { node: 'sandbox' } });
    }));
});
