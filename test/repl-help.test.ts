/**
 * The REPL's own commands: `.help` lists them with their arguments; `.report`, `.enable`, `.disable` and
 * `.health` act on the session's extension and say in words what happened (a pending flag included); tab
 * completes module and point names after them. Flag calls typed as functions say so too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { REPLServer } from 'node:repl';
import { createExtension, type Extension } from '../src/index.js';
import { startReplSession } from '../src/operator/repl.js';
import { runNode } from './helpers/run-node.js';

function makeHost(): Extension {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule('shop', {
    shop_checkout_Extension: () => [],
    shop_refund_Extension: () => [],
    shop_checkout_Plugin: () => 'charged',
  });
  ext.registerModule('audit', { shop_checkout_Plugin: () => 'audited', shop_refund_Plugin: () => 'logged', health: () => 'ok' });
  ext.registerModule('mailer', { shipping_dispatch_Plugin: () => 'sent', health: () => ({ status: 'degraded', reason: 'slow smtp' }) });
  return ext;
}

async function runPiped(ext: Extension, lines: string[]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const repl = await startReplSession(ext, { input, output, terminal: false, color: false });
  const exited = new Promise((done) => repl.once('exit', done));
  input.end(lines.join('\n') + '\n');
  await exited;
  return text;
}

describe('.help', () => {
  it('lists the extpoint commands with their arguments, beside Node\'s own', async () => {
    const text = await runPiped(makeHost(), ['.help']);
    expect(text).toMatch(/^\.report\s+.*report/m);
    expect(text).toMatch(/^\.enable\s+.*\[PLUGIN\] MODULE POINT/m);
    expect(text).toMatch(/^\.disable\s+.*\[PLUGIN\] MODULE POINT/m);
    expect(text).toMatch(/^\.health\s+.*\[MODULE \[POINT\]\]/m);
    expect(text).toMatch(/^\.exit\s/m);
  });
});

describe('the commands', () => {
  it('.disable and .enable a plugin or a point, saying whether it applied or is pending', async () => {
    const ext = makeHost();
    const text = await runPiped(ext, [
      '.disable audit shop checkout',
      '.disable shop refund',
      '.disable anta shop checkout',
      '.enable shop refund',
    ]);
    expect(ext.callPluginsSync('shop', 'checkout').map((r) => r.data)).toEqual(['charged']);
    expect(ext.callPluginsSync('shop', 'refund').map((r) => r.data)).toEqual(['logged']);
    expect(text).toMatch(/disabled plugin audit on shop\.checkout/);
    expect(text).toMatch(/disabled point shop\.refund/);
    expect(text).toMatch(/enabled point shop\.refund/);
    expect(text).toMatch(/pending: no plugin of module "anta" serves shop\.checkout now; the flag is kept/);
  });

  it('explains a wrong number of arguments or a bad name, and goes on', async () => {
    const ext = makeHost();
    const text = await runPiped(ext, ['.disable shop', '.enable a b c d', '.disable shop re-fund', '1 + 41']);
    expect(text).toMatch(/usage: \.disable \[PLUGIN\] MODULE POINT/);
    expect(text).toMatch(/invalid point name "re-fund"/);
    expect(text).toContain('42');
  });

  it('.report prints the text report; .health the health of a point or everything', async () => {
    const ext = makeHost();
    ext.callPluginsSync('shop', 'checkout');
    const text = await runPiped(ext, ['.report', '.health shop checkout', '.health']);
    expect(text).toMatch(/shop_checkout_Extension\s+shop\s+local\s+enable\s+2\s+0/);
    expect(text).toMatch(/healthy: shop\.checkout/);
    expect(text).toMatch(/mailer: degraded \(slow smtp\)/);
    expect(text).toMatch(/unhealthy: shipping\.dispatch/);
  });

  it('a pending flag typed as a call is said in words too', async () => {
    const text = await runPiped(makeHost(), ['disablePoint("shop", "chekout")', 'disablePoint("shop", "checkout")']);
    expect(text).toMatch(/pending: no point shop\.chekout is registered now; the flag is kept/);
    expect(text).toContain("'pending'");
    expect(text).toContain("'applied'");
  });
});

describe('completion after the commands', () => {
  it('completes plugin modules, modules and points', async () => {
    const ext = makeHost();
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const repl: REPLServer = await startReplSession(ext, { input, output, terminal: true, color: false });
    type Completer = (line: string, cb: (err: Error | null, result?: [string[], string]) => void) => void;
    const completer = (repl as unknown as { completer: Completer }).completer;
    const complete = (line: string) =>
      new Promise<[string[], string]>((done, fail) => completer(line, (err, result) => (err ? fail(err) : done(result!))));
    try {
      expect(await complete('.disable au')).toEqual([['audit'], 'au']);
      expect(await complete('.disable audit ')).toEqual([['shop'], '']);
      expect(await complete('.disable audit shop r')).toEqual([['refund'], 'r']);
      expect(await complete('.enable shop ')).toEqual([['checkout', 'refund', 'shop'], '']); // shop declares points and is a plugin module too
      expect(await complete('.health sh')).toEqual([['shipping', 'shop'], 'sh']);
      expect(await complete('.health shipping d')).toEqual([['dispatch'], 'd']);
      const [commands] = await complete('.he');
      expect(commands.flat()).toEqual(expect.arrayContaining(['health', 'help'])); // Node's own completion of command names
    } finally {
      repl.close();
    }
  });
});

describe('the extpoint repl command', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ep-replhelp-'));
    await mkdir(join(root, 'plugins'));
    await writeFile(join(root, 'plugins', 'audit.cjs'), 'exports.shop_checkout_Plugin = () => "audited";');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('has the commands, mentions .help in its banner, and says when a flag is pending', async () => {
    const run = await runNode([resolve('dist/cli.js'), 'repl', '--plugins', join(root, 'plugins')], {
      input: '.help\n.disable audti shop checkout\n.disable audit shop checkout\n',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^extpoint repl: .*\.help lists the commands/);
    expect(run.stdout).toMatch(/^\.disable\s/m);
    expect(run.stdout).toMatch(/pending: no plugin of module "audti" serves shop\.checkout now/);
    expect(run.stdout).toMatch(/disabled plugin audit on shop\.checkout/);
  });
});
