/**
 * The `extpoint` command end to end: the built dist/cli.js run as a child process on plugin folders written to
 * a temp folder, asserting on what it prints and its exit status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runNode, type Run } from './helpers/run-node.js';

const CLI = resolve('dist/cli.js');
const ANSI = '\u001b[';

/** Runs `extpoint args...` with `input` piped to it (stdin closed when given none), colour allowed by env. */
function extpoint(args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runNode([CLI, ...args], { input, env });
}

let root: string;
let good: string;
let bad: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ep-cli-'));
  good = join(root, 'good');
  bad = join(root, 'bad');
  await mkdir(join(good, 'billing'), { recursive: true });
  await mkdir(join(bad, 'nested'), { recursive: true });
  await writeFile(
    join(good, 'shop.cjs'),
    `exports.shop_checkout_Extension = () => [];
exports.shop_checkout_Plugin = (order) => ({ charged: order.total });`,
  );
  await writeFile(join(good, 'billing', 'audit.mjs'), `export function shop_checkout_Plugin(order) { if (order.total > 100) throw new Error('audit limit exceeded'); return 'audited'; }`);
  await writeFile(join(good, 'helper.cjs'), `exports.round = (x) => Math.round(x);`);

  await writeFile(join(bad, 'fine.cjs'), `exports.shop_checkout_Plugin = () => 1;`);
  await writeFile(join(bad, 'broken.cjs'), `exports.shop_checkout_Plugin = () => {`);
  await writeFile(join(bad, 'throws.cjs'), `throw new Error('needs DATABASE_URL');`);
  await writeFile(join(bad, 'names.cjs'), `exports.checkout_Plugin = () => 1;\nexports.shop_refund_Plugin = 5;`);
  await writeFile(join(bad, 'meta.mjs'), `export function shop_checkout_Plugin() {}\nshop_checkout_Plugin.priority = 500;`);
  await writeFile(join(bad, 'nested', 'fine.cjs'), `exports.shop_other_Plugin = () => 1;`);
  await writeFile(join(bad, 'loose.cjs'), `exports.shop_loose_Plugin = () => 1;`);
  await chmod(join(bad, 'loose.cjs'), 0o666);
  await writeFile(join(bad, 'held.cjs'), `exports.shop_held_Plugin = Object.assign(() => 1, { depends: ['ledger'] });`);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('help and usage errors', () => {
  it('prints the usage with --help, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = await extpoint(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: extpoint <command> \[options\]/);
      expect(run.stdout).toMatch(/Exit status:\n  0 +success\n  1 .*\n  2 +usage error/);
      expect(run.stderr).toBe('');
    }
  });

  it('has help for each command', async () => {
    for (const command of ['report', 'check', 'repl', 'attach']) {
      const run = await extpoint([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: extpoint ${command}`));
      expect((await extpoint(['help', command])).stdout).toBe(run.stdout);
    }
  });

  it('prints the version', async () => {
    const run = await extpoint(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each([
    [[], /^extpoint: missing command\n\nUsage: extpoint <command>/],
    [['frobnicate'], /^extpoint: unknown command "frobnicate"; the commands are report, check, repl, attach/],
    [['--json'], /^extpoint: unknown option "--json" \(options go after the command\)/],
    [['help', 'nope'], /^extpoint: unknown command "nope"/],
    [['report', '--bogus'], /^extpoint report: unknown option "--bogus"\n\nUsage: extpoint report/],
    [['report', '--plugins'], /^extpoint report: .*--plugins.*argument missing/],
    [['report', 'plugins'], /^extpoint report: unexpected argument "plugins"; give folders with --plugins DIR/],
    [['report', '--plugins', '/no/such/folder'], /^extpoint report: \/no\/such\/folder: no such folder/],
    [['check'], /^extpoint check: missing DIR: name at least one plugin folder to check\n\nUsage: extpoint check DIR/],
    [['check', CLI], /^extpoint check: .*cli\.js: not a folder; give the folder that holds the plugin files/],
    [['repl', '-x'], /^extpoint repl: unknown option "-x"\n\nUsage: extpoint repl/],
    [['attach'], /^extpoint attach: missing SOCKET: give the socket path the host passed to serveRepl\n\nUsage: extpoint attach SOCKET/],
    [['attach', 'a', 'b'], /^extpoint attach: unexpected argument "b"; attach takes one SOCKET/],
  ])('%j is a usage error: message, usage on stderr, exit 2', async (args, message) => {
    const run = await extpoint(args as string[]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: extpoint');
    expect(run.stdout).toBe('');
  });
});

describe('extpoint report', () => {
  it('prints each point with the plugins serving it, without colour when not a terminal', async () => {
    const run = await extpoint(['report', '--plugins', good]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^extpoint report {2}start count 1, last start \d{4}-\d\d-\d\dT/);
    expect(run.stdout).toContain('1 point, 2 plugins, 0 failing, 0 disabled or held, 0 load errors');
    expect(run.stdout).toMatch(/\n {2}shop_checkout_Extension\s+shop\s+local\s+enable\s+0\s+0\n/);
    expect(run.stdout).toMatch(/\n {4}shop_checkout_Plugin\s+audit\s+local\s+enable\s+0\s+0\n/);
    expect(run.stdout).toMatch(/\n {4}shop_checkout_Plugin\s+shop\s+local\s+enable\s+0\s+0\n/);
    expect(run.stdout).not.toContain('helper');
    expect(run.stdout).not.toContain(ANSI);
  });

  it('shows load errors with their paths', async () => {
    const run = await extpoint(['report', '-p', bad]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/load errors \(7\)/);
    expect(run.stdout).toContain(`${join(bad, 'broken.cjs')}, module broken at `);
    expect(run.stdout).toMatch(/loose\.cjs.*world-writable/);
  });

  it('prints JSON with --json: the report data, dates as ISO strings', async () => {
    const run = await extpoint(['report', '--plugins', good, '--plugins', bad, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(['status', 'plugins', 'points']);
    expect(report.status.startCount).toBe(1);
    expect(new Date(report.status.startTime).toISOString()).toBe(report.status.startTime);
    expect(report.points).toEqual([{ fn: 'shop_checkout_Extension', module: 'shop', node: 'local', enabled: true, ok: 0, exit: 0 }]);
    expect(report.plugins.map((p: { module: string; fn: string }) => `${p.module}.${p.fn}`)).toContain('audit.shop_checkout_Plugin');
    const files = report.status.loadErrors.map((e: { file: string }) => e.file);
    expect(files).toContain(join(bad, 'throws.cjs'));
    // The earlier folder wins a module name: bad/nested/fine.cjs loses to bad/fine.cjs.
    expect(files).toContain(join(bad, 'nested', 'fine.cjs'));
  });
});

describe('extpoint check', () => {
  it('exits 0 for a good folder and says what it found', async () => {
    const run = await extpoint(['check', good]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`ok: 2 plugin modules, 2 plugins, 1 point in ${good}\n`);
  });

  it('exits 1 for a bad folder, one line per problem with the file and what to do', async () => {
    const run = await extpoint(['check', bad]);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    const problems = lines.filter((l) => !l.startsWith('warning:') && !/^\d+ problems:/.test(l));
    expect(problems).toHaveLength(7);
    for (const line of problems) expect(line).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/\\S+\\.(cjs|mjs): `));
    expect(run.stdout).toMatch(/broken\.cjs: syntax error/);
    expect(run.stdout).toMatch(/throws\.cjs: .*needs DATABASE_URL/);
    expect(run.stdout).toMatch(/names\.cjs: export checkout_Plugin: .*expected <module>_<point>_Plugin/);
    expect(run.stdout).toMatch(/names\.cjs: export shop_refund_Plugin: .*not a function/);
    expect(run.stdout).toMatch(/meta\.mjs: export shop_checkout_Plugin: .*priority 500.*integer from 0 to 100/);
    expect(run.stdout).toMatch(/nested\/fine\.cjs: module name "fine" .*already taken .*rename one of the files/);
    expect(run.stdout).toMatch(/loose\.cjs: .*world-writable .*chmod o-w/);
    expect(run.stdout).toMatch(/^warning: module held: shop_held_Plugin is held until plugin module ledger is loaded/m);
    expect(lines.at(-1)).toMatch(/^7 problems: 2 plugin modules, 2 plugins, 0 points in /);
  });

  it('accepts loose permissions with --no-check-permissions', async () => {
    const run = await extpoint(['check', '--no-check-permissions', bad]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('loose.cjs');
    expect(run.stdout).toMatch(/^6 problems:/m);
  });

  it('checks several folders; the earlier wins a module name', async () => {
    const run = await extpoint(['check', good, join(bad, 'nested')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok: 3 plugin modules, 3 plugins, 1 point in /);
  });
});

describe('extpoint repl', () => {
  it('runs piped lines against the loaded folders, awaiting each, and exits 0 on .exit', async () => {
    const run = await extpoint(
      ['repl', '--plugins', good],
      [
        'const results = await callPlugins("shop", "checkout", { total: 500 })',
        'results.map((r) => `${r.info.module}:${r.state}`).join(" ")',
        'disablePlugin("audit", "shop", "checkout")',
        'callPluginsSync("shop", "checkout", { total: 1 }).length',
        'report()',
        '.exit',
        '"not reached"',
      ].join('\n') + '\n',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^extpoint repl: 2 plugins on 1 point from .*good\. Try report\(\); \.help lists the commands; \.exit leaves\.\n/);
    expect(run.stdout).toContain("'audit:EXIT shop:ok'");
    expect(run.stdout).toMatch(/extpoint> 1\n/);
    expect(run.stdout).toMatch(/shop_checkout_Plugin\s+audit\s+local\s+disable\s+0\s+1/);
    expect(run.stdout).toMatch(/audit shop_checkout_Plugin #1 at \S+: Error: audit limit exceeded/);
    expect(run.stdout).not.toContain('not reached');
    expect(run.stdout).not.toContain(ANSI);
  });

  it('is the process-wide extension: a host module imported in the session calls the folder plugins', async () => {
    const hostFile = join(root, 'shop-host.mjs');
    await writeFile(
      hostFile,
      `import { extension } from ${JSON.stringify(pathToFileURL(resolve('dist/index.js')).href)};
export function shop_checkout_Extension(order) { return extension.callPluginsSync('shop', 'checkout', order); }`,
    );
    const run = await extpoint(
      ['repl', '--plugins', good],
      [
        `const host = await import(${JSON.stringify(pathToFileURL(hostFile).href)})`,
        'host.shop_checkout_Extension({ total: 9 }).map((r) => `${r.info.module}=${JSON.stringify(r.data)}`).join(" ")',
      ].join('\n') + '\n',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`'audit="audited" shop={"charged":9}'`);
  });

  it('exits at .exit even while its input stays open', async () => {
    const child = spawn(process.execPath, [CLI, 'repl'], { stdio: 'pipe' });
    child.stdout.resume();
    child.stdin.write('1 + 1\n.exit\n'); // stdin is left open
    const code = await new Promise((done) => child.once('exit', done));
    expect(code).toBe(0);
    child.stdin.destroy();
  });

  it('ends at the end of its input, and works without plugin folders', async () => {
    const run = await extpoint(['repl'], 'report().plugins.length\n');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^extpoint repl: no plugin folders\./);
    expect(run.stdout).toMatch(/extpoint> 0\n/);
  });

  it('watches the folders: a file dropped in while the session runs is live', async () => {
    const folder = join(root, 'watched');
    await mkdir(folder);
    await writeFile(join(folder, 'first.cjs'), 'exports.app_ping_Plugin = () => "first";');
    const child = spawn(process.execPath, [CLI, 'repl', '--plugins', folder], { stdio: 'pipe' });
    let out = '';
    const seen = (text: string) =>
      new Promise<void>((done, fail) => {
        const check = () => (out.includes(text) ? done() : child.exitCode !== null ? fail(new Error(out)) : undefined);
        child.stdout.setEncoding('utf8').on('data', (c: string) => ((out += c), check()));
        check();
      });
    child.stdin.write('const loaded = new Promise((resolve) => extension.once("load", (e) => resolve(e.module)))\n');
    await seen('extpoint> extpoint> ');
    await writeFile(join(folder, 'second.cjs'), 'exports.app_ping_Plugin = () => "second";');
    child.stdin.end('await loaded\ncallPluginsSync("app", "ping").map((r) => r.data).join("+")\n');
    const code = await new Promise((done) => child.once('close', done));
    expect(code).toBe(0);
    expect(out).toContain("'second'");
    expect(out).toContain("'first+second'");
  });
});
