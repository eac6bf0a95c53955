/**
 * The sshd-style permission rules: unit checks of the rule itself (any owner can be simulated), and real
 * files with chmod (and chown where the tests run as root) through a plugin folder.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, chown, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionCheck } from '../src/modules/permissions.js';
import { createExtension, type Extension } from '../src/index.js';

const posix = process.platform !== 'win32';
const me = posix ? process.getuid!() : 0;

let base: string;
let plugins: string;
let ext: Extension | null = null;
beforeEach(async () => {
  base = realpathSync(await mkdtemp(join(tmpdir(), 'ep-perm-')));
  plugins = join(base, 'plugins');
  await mkdir(plugins, { mode: 0o755 });
  await chmod(plugins, 0o755);
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

const plugin = (v: string) => `exports.host_p_Plugin = () => ${JSON.stringify(v)};`;
const answers = (e: Extension) => e.callPluginsSync('host', 'p').map((r) => r.data);

async function start(checkPermissions?: boolean): Promise<Extension> {
  ext = createExtension({ scanLoaded: false, pluginDirs: [plugins], watch: false, checkPermissions });
  await ext.start();
  return ext;
}

describe.runIf(posix)('the rule', () => {
  it('passes files owned by this user or root, and refuses world-writable ones or other owners', () => {
    const check = new PermissionCheck();
    const file = join(plugins, 'a.cjs');
    expect(check.problem(plugins, file, { mode: 0o100644, uid: me })).toBeNull();
    expect(check.problem(plugins, file, { mode: 0o100664, uid: 0 })).toBeNull();
    expect(check.problem(plugins, file, { mode: 0o100666, uid: me })).toMatch(
      new RegExp(`^plugin file ${file} is world-writable \\(mode 0666\\).*chmod o-w`),
    );
    const other = me === 4242 ? 4243 : 4242;
    expect(check.problem(plugins, file, { mode: 0o100644, uid: other })).toMatch(
      new RegExp(`^plugin file ${file} is owned by uid ${other}, not by this process's user \\(uid ${me}\\) or root`),
    );
  });
});

describe.runIf(posix)('plugin folders', () => {
  it('refuses a world-writable plugin file, saying why, and loads it once fixed', async () => {
    await writeFile(join(plugins, 'loose.cjs'), plugin('loose'));
    await chmod(join(plugins, 'loose.cjs'), 0o666);
    await writeFile(join(plugins, 'fine.cjs'), plugin('fine'));
    const e = await start();
    expect(answers(e)).toEqual(['fine']);
    const errs = e.report().status.loadErrors;
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ module: 'loose', file: join(plugins, 'loose.cjs') });
    expect(errs[0]!.message).toContain('is world-writable (mode 0666)');
    await chmod(join(plugins, 'loose.cjs'), 0o644);
    await e.rescan();
    expect(answers(e).sort()).toEqual(['fine', 'loose']);
  });

  it('refuses files under a world-writable folder (the plugin folder included), not its parents', async () => {
    await mkdir(join(plugins, 'open'));
    await chmod(join(plugins, 'open'), 0o777);
    await writeFile(join(plugins, 'open', 'inside.cjs'), plugin('inside'));
    await writeFile(join(plugins, 'top.cjs'), plugin('top'));
    await chmod(base, 0o777); // a parent of the plugin folder: not checked
    const e = await start();
    expect(answers(e)).toEqual(['top']);
    expect(e.report().status.loadErrors[0]!.message).toContain(`plugin folder ${join(plugins, 'open')} is world-writable (mode 0777)`);

    await chmod(plugins, 0o777);
    await e.stop();
    ext = createExtension({ scanLoaded: false, pluginDirs: [plugins], watch: false });
    await ext.start();
    expect(answers(ext)).toEqual([]);
    expect(ext.report().status.loadErrors.every((x) => x.message.includes(`plugin folder ${plugins} is world-writable`))).toBe(true);
  });

  it.runIf(me === 0)('refuses a file owned by another user (run as root: chown is possible)', async () => {
    await writeFile(join(plugins, 'theirs.cjs'), plugin('theirs'));
    await chown(join(plugins, 'theirs.cjs'), 4242, 4242);
    const e = await start();
    expect(answers(e)).toEqual([]);
    expect(e.report().status.loadErrors[0]!.message).toContain('is owned by uid 4242');
  });

  it('refuses a world-writable file dropped into a watched folder, and loads it when chmod fixes it', async () => {
    ext = createExtension({ scanLoaded: false, pluginDirs: [plugins] });
    const e = ext;
    await e.start();
    const staged = join(base, 'staged.cjs');
    await writeFile(staged, plugin('dropped'));
    await chmod(staged, 0o666);
    const refused = new Promise<string>((resolve) => e.once('loadError', (x) => resolve(x.message)));
    await rename(staged, join(plugins, 'dropped.cjs'));
    expect(await refused).toContain(`plugin file ${join(plugins, 'dropped.cjs')} is world-writable (mode 0666)`);
    expect(answers(e)).toEqual([]);
    const loaded = new Promise<void>((resolve) => e.once('load', () => resolve()));
    await chmod(join(plugins, 'dropped.cjs'), 0o644);
    await loaded;
    expect(answers(e)).toEqual(['dropped']);
  });

  it('checks folder modes afresh for files that arrive while watching', async () => {
    await mkdir(join(plugins, 'sub'));
    await writeFile(join(plugins, 'sub', 'early.cjs'), plugin('early'));
    ext = createExtension({ scanLoaded: false, pluginDirs: [plugins] });
    const e = ext;
    await e.start();
    expect(answers(e)).toEqual(['early']);
    await chmod(join(plugins, 'sub'), 0o777);
    const refused = new Promise<string>((resolve) => e.once('loadError', (x) => resolve(x.message)));
    await writeFile(join(plugins, 'sub', 'late.cjs'), plugin('late'));
    expect(await refused).toContain(`plugin folder ${join(plugins, 'sub')} is world-writable (mode 0777)`);
    expect(answers(e)).toEqual(['early']);
  });

  it('loads everything with checkPermissions: false', async () => {
    await writeFile(join(plugins, 'loose.cjs'), plugin('loose'));
    await chmod(join(plugins, 'loose.cjs'), 0o666);
    await chmod(plugins, 0o777);
    const e = await start(false);
    expect(answers(e)).toEqual(['loose']);
    expect(e.report().status.loadErrors).toEqual([]);
  });
});
