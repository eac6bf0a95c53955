/**
 * The installer with a running host: packages made by npm pack installed into a watched plugin folder and
 * called; an upgrade; a failed upgrade rolled back while calls go on (none fails, none finds no plugin);
 * uninstall takes the plugins out of the registry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExtension, type Extension } from '../src/index.js';
import { install, listInstalled, uninstall, MANIFEST } from '../src/install/index.js';
import { pluginSource, pluginTarball } from './helpers/packages.js';

let base: string;
let dir: string;
let ext: Extension | null = null;
const allow = ['file:'];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-install-host-'));
  dir = join(base, 'plugins');
  await mkdir(dir);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

async function host(): Promise<Extension> {
  ext = createExtension({ scanLoaded: false, pluginDirs: [dir], watch: true });
  await ext.start();
  return ext;
}

const answers = (e: Extension) => e.callPluginsSync('host', 'p').map((r) => (r.state === 'ok' ? r.data : `EXIT:${String(r.data)}`));

/** Calls host/p every few milliseconds until stopped; returns every distinct answer seen, in order. */
function keepCalling(e: Extension): { stop(): Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = JSON.stringify(answers(e));
      if (seen[seen.length - 1] !== now) seen.push(now);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Waits until `cond` holds, checking after each extension event. */
async function until(e: Extension, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met in time; load errors: ${JSON.stringify(e.report().status.loadErrors)}`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const ev of ['load', 'reload', 'unload', 'loadError'] as const) e.off(ev, done);
        resolve();
      };
      const timer = setTimeout(done, 100);
      for (const ev of ['load', 'reload', 'unload', 'loadError'] as const) e.on(ev, done);
    });
  }
}

describe('install into a running host', () => {
  it('installs, upgrades and uninstalls while the host calls the plugins', async () => {
    const v1 = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const v2 = await pluginTarball(base, 'audit-plugin', '2.0.0', 'audit', pluginSource('v2'));
    const e = await host();
    expect(answers(e)).toEqual([]);

    // With the extension passed in, install returns once the host has loaded the new files.
    await install(v1.file, { dir, allow, integrity: v1.integrity, extension: e });
    expect(answers(e)).toEqual(['v1']);

    const calls = keepCalling(e);
    const { replaced } = await install(v2.file, { dir, allow, integrity: v2.integrity, extension: e });
    expect(replaced).toBe('1.0.0');
    expect(answers(e)).toEqual(['v2']);
    // Every call saw one whole version: the old one, then the new one, never none.
    expect(await calls.stop()).toEqual(['["v1"]', '["v2"]']);

    await uninstall('audit-plugin', { dir });
    await until(e, () => answers(e).length === 0);
    expect(e.report().plugins.filter((p) => p.module === 'audit')).toEqual([]);
    expect(await listInstalled({ dir })).toEqual([]);
  });

  it('rolls a failed upgrade back: the old version keeps serving, calls go on, the error says why', async () => {
    const v1 = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const broken = await pluginTarball(base, 'audit-plugin', '1.1.0', 'audit', 'exports.host_p_Plugin = (');
    const e = await host();
    await install(v1.file, { dir, allow, extension: e });
    expect(answers(e)).toEqual(['v1']);

    const calls = keepCalling(e);
    let failure: (Error & { code?: string }) | undefined;
    try {
      await install(broken.file, { dir, allow, extension: e });
    } catch (err) {
      failure = err as Error & { code?: string };
    }
    expect(failure?.code).toBe('ELOADFAILED');
    expect(failure?.message).toMatch(/audit-plugin@1\.1\.0 failed to load, so the previous version 1\.0\.0 is back in place/);
    expect(failure?.message).toMatch(/audit\.cjs: .*syntax error/i);
    // The old files are back; the host reloads them and serves v1 throughout.
    expect(await readFile(join(dir, 'audit-plugin', 'audit.cjs'), 'utf8')).toBe(pluginSource('v1'));
    await until(e, () => e.report().plugins.some((p) => p.module === 'audit'));
    expect(await calls.stop()).toEqual(['["v1"]']);
    // The restored files match the restored manifest: no refusal on the way back.
    expect(e.report().status.loadErrors.filter((l) => /was changed/.test(l.message))).toEqual([]);
    expect((await listInstalled({ dir })).map((p) => p.version)).toEqual(['1.0.0']);
    expect((await readdir(dir)).filter((n) => n.startsWith('.extpoint-staging'))).toEqual([]);
  });

  it('removes a first install that fails to load', async () => {
    const broken = await pluginTarball(base, 'bad-plugin', '1.0.0', 'bad', 'throw new Error("boom at load");');
    const e = await host();
    let failure: (Error & { code?: string }) | undefined;
    try {
      await install(broken.file, { dir, allow, extension: e });
    } catch (err) {
      failure = err as Error & { code?: string };
    }
    expect(failure?.code).toBe('ELOADFAILED');
    expect(failure?.message).toMatch(/bad-plugin@1\.0\.0 failed to load, so it was removed.*\n.*boom at load/);
    expect((await readdir(dir)).sort()).toEqual([MANIFEST]);
    expect(await listInstalled({ dir })).toEqual([]);
  });
});

describe('installed packages checked at start', () => {
  it('refuses a package whose files changed behind the installer\'s back, and loads the untouched ones', async () => {
    const audit = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('audit'));
    const tax = await pluginTarball(base, 'tax-plugin', '1.0.0', 'tax', pluginSource('tax', 'q'));
    const extra = await pluginTarball(base, 'extra-plugin', '1.0.0', 'extra', pluginSource('extra', 'r'));
    for (const p of [audit, tax, extra]) await install(p.file, { dir, allow });
    await appendFile(join(dir, 'audit-plugin', 'audit.cjs'), 'exports.host_p_Plugin = () => "tampered";\n');
    await writeFile(join(dir, 'extra-plugin', 'sneaky.cjs'), pluginSource('sneaky', 'r'));

    const e = await host();
    expect(answers(e)).toEqual([]);
    expect(e.callPluginsSync('host', 'q').map((r) => r.data)).toEqual(['tax']);
    expect(e.callPluginsSync('host', 'r').map((r) => r.data)).toEqual([]);
    const errors = e.report().status.loadErrors.map((l) => `${l.file?.slice(dir.length + 1) ?? ''}: ${l.message}`).sort();
    expect(errors).toEqual([
      expect.stringMatching(/^audit-plugin\/audit\.cjs: installed package audit-plugin@1\.0\.0 was changed since it was installed \(audit\.cjs changed\).*install it again/),
      expect.stringMatching(/^extra-plugin\/extra\.cjs: installed package extra-plugin@1\.0\.0 was changed .*\(sneaky\.cjs was added\)|^extra-plugin\/extra\.cjs: .*sneaky\.cjs/),
      expect.stringMatching(/^extra-plugin\/sneaky\.cjs: installed package extra-plugin@1\.0\.0 was changed .*sneaky\.cjs was added/),
    ]);

    // Installing it again (forced: same version) puts back what the manifest records, and the host loads it.
    await install(audit.file, { dir, allow, force: true, extension: e });
    expect(answers(e)).toEqual(['audit']);
  });
});
