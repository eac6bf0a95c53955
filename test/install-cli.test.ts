/**
 * `extpoint install`, `uninstall` and `installed` end to end: the built CLI run as a child process on
 * tarballs made by npm pack, into a temp folder; and the `extpoint/install` subpath export.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runNode } from './helpers/run-node.js';
import { pluginSource, pluginTarball } from './helpers/packages.js';

const CLI = resolve('dist/cli.js');
let base: string;
let dir: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'ep-install-cli-'));
  dir = join(base, 'plugins');
  await mkdir(dir);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('extpoint install / uninstall / installed', () => {
  it('installs with an integrity pin, lists, upgrades, and uninstalls', async () => {
    const v1 = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const v2 = await pluginTarball(base, 'audit-plugin', '1.1.0', 'audit', pluginSource('v2'));
    const first = await runNode([CLI, 'install', v1.file, '--dir', dir, '--allow', 'file:', '--integrity', v1.integrity]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^installed audit-plugin@1\.0\.0 into .*audit-plugin\n$/);
    expect(first.code).toBe(0);

    const listed = await runNode([CLI, 'installed', '--dir', dir]);
    expect(listed.stdout).toMatch(/^audit-plugin@1\.0\.0 {2}file:.*audit-plugin-1\.0\.0\.tgz {2}\d{4}-/);

    const up = await runNode([CLI, 'install', v2.file, '--dir', dir, '--allow', 'file:']);
    expect(up.stdout).toMatch(/installed audit-plugin@1\.1\.0 .*\(replacing 1\.0\.0\)/);
    const down = await runNode([CLI, 'install', v1.file, '--dir', dir, '--allow', 'file:']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/1\.0\.0 is not newer than the installed 1\.1\.0/);

    const json = JSON.parse((await runNode([CLI, 'installed', '--dir', dir, '--json'])).stdout) as { version: string }[];
    expect(json.map((p) => p.version)).toEqual(['1.1.0']);

    const removed = await runNode([CLI, 'uninstall', 'audit-plugin', '--dir', dir]);
    expect(removed.stdout).toMatch(/^uninstalled audit-plugin@1\.1\.0 from /);
    expect((await runNode([CLI, 'installed', '--dir', dir])).stdout).toMatch(/^nothing installed in /);
  });

  it('refuses sources not named by --allow, and checks loading in a child process before switching in', async () => {
    const good = await pluginTarball(base, 'audit-plugin', '1.0.0', 'audit', pluginSource('v1'));
    const denied = await runNode([CLI, 'install', good.file, '--dir', dir]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/is not an allowed source; allow it with --allow/);

    const broken = await pluginTarball(base, 'broken-plugin', '1.0.0', 'broken', 'exports.host_p_Plugin = (');
    const failed = await runNode([CLI, 'install', broken.file, '--dir', dir, '--allow', 'file:']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/broken-plugin@1\.0\.0 failed to load, so nothing was changed.*\n.*broken\.cjs: .*syntax error/i);
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives usage errors for a missing SPEC or --dir', async () => {
    const noDir = await runNode([CLI, 'install', 'x.tgz']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/missing --dir DIR/);
    const noName = await runNode([CLI, 'uninstall', '--dir', dir]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/missing NAME/);
  });

  it('is importable as extpoint/install from the built package', async () => {
    const script = `import('extpoint/install').then((m) => console.log(typeof m.install, typeof m.uninstall, typeof m.listInstalled))`;
    const run = await runNode(['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function function');
  });
});
