/**
 * Hardening of plugin folders and files (issue 16, items 18 and 21, and `extpoint check` against a
 * top-level `process.exit()`): real files in temp folders, the real watcher, and child processes where the
 * process could die or must run as another user. Changes are awaited by polling with a generous deadline,
 * never by timing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, type Extension } from '../src/index.js';
import { runNode, type Run } from './helpers/run-node.js';

const CLI = resolve('dist/cli.js');
const INDEX_URL = pathToFileURL(resolve('dist/index.js')).href;
const posix = process.platform !== 'win32';
const root = posix && process.getuid!() === 0;
/** The unprivileged user a child runs as, to meet a folder it may not read (root reads everything). */
const NOBODY = 65534;

let base: string;
let plugins: string;
let ext: Extension | null = null;
beforeEach(async () => {
  base = realpathSync(await mkdtemp(join(tmpdir(), 'ep-hfiles-')));
  await chmod(base, 0o755);
  plugins = join(base, 'plugins');
  await mkdir(plugins, { mode: 0o755 });
});
afterEach(async () => {
  await ext?.stop();
  ext = null;
  await rm(base, { recursive: true, force: true });
});

const cjs = (value: unknown) => `exports.host_p_Plugin = () => ${JSON.stringify(value)};\n`;
const answers = (e: Extension) =>
  e
    .callPluginsSync('host', 'p')
    .map((r) => (r.state === 'ok' ? r.data : `EXIT:${String(r.data)}`))
    .sort();

async function started(watch = true): Promise<Extension> {
  ext = createExtension({ scanLoaded: false, pluginDirs: [plugins], watch });
  await ext.start();
  return ext;
}

/** Polls until `cond` holds; fails with `what` (and the load errors) after a generous deadline. */
async function eventually(e: Extension, what: string, cond: () => boolean, deadlineMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > deadlineMs) {
      throw new Error(`${what}: not seen within ${deadlineMs} ms; answers ${JSON.stringify(answers(e))}; load errors ${JSON.stringify(e.report().status.loadErrors)}`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('a watched entry that changes kind', () => {
  it('a plugin file replaced by a folder of the same name, and back', async () => {
    const entry = join(plugins, 'entry.cjs');
    await writeFile(entry, cjs('file'));
    await writeFile(join(plugins, 'other.cjs'), cjs('other'));
    const e = await started();
    expect(answers(e)).toEqual(['file', 'other']);

    await unlink(entry);
    await mkdir(entry);
    await writeFile(join(entry, 'inner.cjs'), cjs('inner'));
    await eventually(e, 'the file became a folder', () => JSON.stringify(answers(e)) === '["inner","other"]');

    await rm(entry, { recursive: true });
    await writeFile(entry, cjs('file again'));
    await eventually(e, 'the folder became a file', () => JSON.stringify(answers(e)) === '["file again","other"]');
    expect(e.report().plugins.map((p) => p.module).sort()).toEqual(['entry', 'other']);
  });

  it('a subfolder replaced by a file of the same name, and back', async () => {
    const entry = join(plugins, 'lib');
    await mkdir(entry);
    await writeFile(join(entry, 'a.cjs'), cjs('a'));
    const e = await started();
    expect(answers(e)).toEqual(['a']);

    await rm(entry, { recursive: true });
    await writeFile(entry, 'not code, just a file named lib');
    await eventually(e, 'the folder became a file', () => answers(e).length === 0);

    await unlink(entry);
    await mkdir(entry);
    await writeFile(join(entry, 'b.cjs'), cjs('b'));
    await eventually(e, 'the file became a folder again', () => JSON.stringify(answers(e)) === '["b"]');
  });
});

describe('a subfolder swapped for a new version, as deploy tools do', () => {
  it('picks up every one of 20 swaps (old moved away, new renamed into place)', async () => {
    const app = join(plugins, 'app');
    await mkdir(app);
    await writeFile(join(app, 'app.cjs'), cjs('v0'));
    await writeFile(join(app, 'util.cjs'), 'exports.n = 0;\n');
    const e = await started();
    expect(answers(e)).toEqual(['v0']);
    for (let v = 1; v <= 20; v++) {
      // Staged outside the watched folder, complete, then swapped in with two renames.
      const staged = join(base, `staged-${v}`);
      await mkdir(staged);
      await writeFile(join(staged, 'app.cjs'), cjs(`v${v}`));
      await writeFile(join(staged, 'util.cjs'), `exports.n = ${v};\n`);
      const old = join(base, `old-${v}`);
      await rename(app, old);
      await rename(staged, app);
      await eventually(e, `swap ${v}`, () => JSON.stringify(answers(e)) === JSON.stringify([`v${v}`]));
      // The old versions stay around for a rollback, as deploy tools keep them.
    }
    expect(e.report().status.loadErrors).toEqual([]);
    // And the folder in place now is watched: an edit in it is picked up.
    await writeFile(join(app, 'app.cjs'), cjs('edited'));
    await eventually(e, 'an edit after the swaps', () => JSON.stringify(answers(e)) === '["edited"]');
  });

  it('picks up every one of 20 swaps staged in a dot-folder inside the plugin folder', async () => {
    const app = join(plugins, 'app');
    await mkdir(app);
    await writeFile(join(app, 'app.cjs'), cjs('v0'));
    const e = await started();
    for (let v = 1; v <= 20; v++) {
      const staged = join(plugins, `.staging-${v}`);
      await mkdir(staged);
      await writeFile(join(staged, 'app.cjs'), cjs(`v${v}`));
      const old = join(plugins, `.old-${v}`);
      await rename(app, old);
      await rename(staged, app);
      await eventually(e, `swap ${v}`, () => JSON.stringify(answers(e)) === JSON.stringify([`v${v}`]));
      if (v % 2 === 0) await rm(old, { recursive: true }); // some old versions removed, some kept
    }
    expect(e.report().status.loadErrors).toEqual([]);
  });
});

/** Runs `script` (an ES module) in a child process, as `uid` when given; resolves with its exit status and output. */
function runAs(uid: number | undefined, script: string, args: string[]): Promise<Run> {
  return runNode(['--input-type=module', '-e', script, ...args], { cwd: base, ...(uid === undefined ? {} : { uid }) });
}

describe('an unreadable subfolder', () => {
  // Root reads a chmod 000 folder anyway, so under root the host runs as an unprivileged user (nobody).
  it.runIf(posix)('is a load error naming it; the rest of the folder loads (host in a child process, never as root)', async () => {
    await writeFile(join(plugins, 'top.cjs'), cjs('top'));
    await mkdir(join(plugins, 'fine'));
    await writeFile(join(plugins, 'fine', 'deep.cjs'), cjs('deep'));
    await mkdir(join(plugins, 'locked'));
    await writeFile(join(plugins, 'locked', 'secret.cjs'), cjs('secret'));
    await chmod(join(plugins, 'locked'), 0o000);
    await writeFile(join(plugins, 'zz-last.cjs'), cjs('last'));
    const script = `
      import { createExtension } from ${JSON.stringify(INDEX_URL)};
      const ext = createExtension({ scanLoaded: false, pluginDirs: [process.argv[1]], watch: process.argv[2] === 'watch' });
      await ext.start();
      const answers = ext.callPluginsSync('host', 'p').map((r) => r.data).sort();
      console.log(JSON.stringify({ answers, loadErrors: ext.report().status.loadErrors }));
      await ext.stop();
    `;
    for (const mode of ['scan', 'watch']) {
      const run = await runAs(root ? NOBODY : undefined, script, [plugins, mode]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout) as { answers: string[]; loadErrors: { file?: string; message: string }[] };
      expect(out.answers).toEqual(['deep', 'last', 'top']);
      const locked = out.loadErrors.filter((x) => x.file === join(plugins, 'locked'));
      expect(locked).toHaveLength(1);
      expect(locked[0]!.message).toMatch(/cannot be read/);
      expect(locked[0]!.message).toContain(join(plugins, 'locked'));
      expect(locked[0]!.message).toMatch(/EACCES|permission denied/i);
    }
  });
});

describe.runIf(posix)('the permission check follows symbolic links to where the code lives', () => {
  it('refuses a link in a safe folder to a file in a world-writable folder, like the file itself', async () => {
    // A dot-folder is not scanned itself, so only the link brings its file in.
    const store = join(plugins, '.store');
    await mkdir(store);
    await chmod(store, 0o777);
    await writeFile(join(store, 'real.cjs'), cjs('from the open folder'));
    await symlink(join(store, 'real.cjs'), join(plugins, 'linked.cjs'));
    await writeFile(join(plugins, 'safe.cjs'), cjs('safe'));
    const e = await started(false);
    expect(answers(e)).toEqual(['safe']);
    const errs = e.report().status.loadErrors;
    expect(errs).toHaveLength(1);
    expect(errs[0]!.file).toBe(join(plugins, 'linked.cjs'));
    expect(errs[0]!.message).toContain(`plugin folder ${store} is world-writable (mode 0777)`);
    expect(errs[0]!.message).toContain(`${join(plugins, 'linked.cjs')} is a symbolic link to ${join(store, 'real.cjs')}`);
  });

  it('loads the same link once the folder it leads to is safe', async () => {
    const store = join(plugins, '.store');
    await mkdir(store, { mode: 0o755 });
    await chmod(store, 0o755);
    await writeFile(join(store, 'real.cjs'), cjs('from the closed folder'));
    await symlink(join(store, 'real.cjs'), join(plugins, 'linked.cjs'));
    const e = await started(false);
    expect(answers(e)).toEqual(['from the closed folder']);
    expect(e.report().status.loadErrors).toEqual([]);
  });

  it('loads a file refused for a folder\'s permissions on the next rescan() once the folder is fixed', async () => {
    const open = join(plugins, 'team');
    await mkdir(open);
    await chmod(open, 0o777);
    await writeFile(join(open, 'shared.cjs'), cjs('from the team folder'));
    const store = join(plugins, '.store');
    await mkdir(store);
    await chmod(store, 0o777);
    await writeFile(join(store, 'real.cjs'), cjs('through the link'));
    await symlink(join(store, 'real.cjs'), join(plugins, 'linked.cjs'));
    const e = await started(false);
    expect(answers(e)).toEqual([]);
    expect(e.report().status.loadErrors).toHaveLength(2);
    await e.rescan();
    expect(answers(e)).toEqual([]);
    expect(e.report().status.loadErrors).toHaveLength(2);
    await chmod(open, 0o755);
    await chmod(store, 0o755);
    await e.rescan();
    expect(answers(e)).toEqual(['from the team folder', 'through the link']);
  });

  it('refuses a helper required through a linked path into a world-writable folder', async () => {
    const open = join(plugins, '.open');
    await mkdir(open);
    await chmod(open, 0o777);
    await writeFile(join(open, 'helper.cjs'), 'exports.v = "helper";\n');
    await mkdir(join(plugins, 'lib'));
    await symlink(join(open, 'helper.cjs'), join(plugins, 'lib', 'helper.cjs'));
    await writeFile(join(plugins, 'user.cjs'), `exports.host_p_Plugin = () => require('./lib/helper.cjs').v;\nrequire('./lib/helper.cjs');\n`);
    const e = await started(false);
    expect(answers(e)).toEqual([]);
    const errs = e.report().status.loadErrors.filter((x) => x.file === join(plugins, 'user.cjs'));
    expect(errs).toHaveLength(1);
    expect(errs[0]!.message).toContain(`plugin folder ${open} is world-writable`);
  });
});

/** Runs `extpoint args...`; resolves with its exit status and output. */
function extpoint(args: string[]): Promise<Run> {
  return runNode([CLI, ...args], { env: { NO_COLOR: '1' }, cwd: base });
}

describe('extpoint check and a file that ends the process', () => {
  it('reports process.exit(0) at a file\'s top level as that file\'s failure, and still checks the others', async () => {
    await writeFile(join(plugins, 'a-fine.cjs'), cjs('fine'));
    await writeFile(join(plugins, 'quits.cjs'), `process.exit(0);\n${cjs('never')}`);
    await writeFile(join(plugins, 'z-broken.cjs'), 'exports.host_p_Plugin = () => {');
    const run = await extpoint(['check', 'plugins']);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/^ok:/m);
    expect(run.stdout).toMatch(/^plugins\/quits\.cjs: .*ended the process.*process\.exit/m);
    expect(run.stdout).toMatch(/^plugins\/z-broken\.cjs: syntax error/m);
    expect(run.stdout).toMatch(/^2 problems: 1 plugin module, 1 plugin, 0 points in plugins$/m);
  });

  it('reports process.exit(3) in a helper a module requires, naming both, and a kill by signal', async () => {
    await mkdir(join(plugins, 'lib'));
    await writeFile(join(plugins, 'lib', 'bye.cjs'), 'process.exit(3);\n');
    await writeFile(join(plugins, 'user.cjs'), `require('./lib/bye.cjs');\n${cjs('user')}`);
    await writeFile(join(plugins, 'killer.mjs'), `process.kill(process.pid, 'SIGKILL');\nexport function host_p_Plugin() {}\n`);
    const run = await extpoint(['check', 'plugins']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^plugins\/lib\/bye\.cjs: .*ended the process with exit status 3/m);
    expect(run.stdout).toMatch(/^plugins\/user\.cjs: .*ended the process with exit status 3/m);
    expect(run.stdout).toMatch(/^plugins\/killer\.mjs: .*ended the process.*SIGKILL/m);
    expect(run.stdout).not.toMatch(/^ok:/m);
  });

  it('reports a file whose top-level code never ends, after --timeout, and still checks the others', async () => {
    await writeFile(join(plugins, 'a-fine.cjs'), cjs('fine'));
    await writeFile(join(plugins, 'spins.cjs'), `for (;;) {}\n${cjs('never')}`);
    await writeFile(join(plugins, 'z-fine.mjs'), 'export function host_p_Plugin() { return 2; }\n');
    const run = await extpoint(['check', '--timeout', '1000', 'plugins']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^plugins\/spins\.cjs: .*did not finish within 1000 ms.*loops or waits/m);
    expect(run.stdout).toMatch(/^1 problem: 2 plugin modules, 2 plugins, 0 points in plugins$/m);
    const bad = await extpoint(['check', '--timeout', 'soon', 'plugins']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout takes a whole number of milliseconds');
  });

  it('still says ok, exit status 0, for a folder of good files', async () => {
    await writeFile(join(plugins, 'one.cjs'), cjs(1));
    await writeFile(join(plugins, 'two.mjs'), 'export function host_p_Plugin() { return 2; }\n');
    const run = await extpoint(['check', 'plugins']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('ok: 2 plugin modules, 2 plugins, 0 points in plugins\n');
    expect(run.code).toBe(0);
  });
});
