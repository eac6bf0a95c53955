/**
 * The REPL session in process: its scope, piped input run line by line (awaits finish before the next line),
 * completion of module and point names, and that ending a session leaves the extension alone.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import type { REPLServer } from 'node:repl';
import { createExtension, type Extension } from '../src/index.js';
import { completeNames, startReplSession, SCOPE_CALLS } from '../src/operator/repl.js';

function makeHost(): Extension {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule('shop', {
    shop_checkout_Extension: (order: unknown) => ext.callPluginsSync('shop', 'checkout', order),
    shop_refund_Extension: () => [],
    shop_checkout_Plugin: (order: { total: number }) => ({ charged: order.total }),
  });
  ext.registerModule('audit', {
    shop_checkout_Plugin: () => {
      throw new Error('audit store unreachable');
    },
    shop_refund_Plugin: () => 'logged',
  });
  ext.registerModule('mailer', { shipping_dispatch_Plugin: () => 'sent' });
  return ext;
}

/** Runs `lines` through a piped (non-terminal) session; resolves with everything it printed. */
async function runPiped(ext: Extension, lines: string[], color = false): Promise<{ text: string; repl: REPLServer }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => (text += chunk));
  const repl = await startReplSession(ext, { input, output, terminal: false, color, banner: 'hello operator' });
  const exited = new Promise((done) => repl.once('exit', done));
  input.end(lines.join('\n') + '\n');
  await exited;
  return { text, repl };
}

describe('REPL scope', () => {
  it('holds the extension and its calls, bound to it', async () => {
    const ext = makeHost();
    const { text } = await runPiped(ext, [
      'extension === globalThis.extension && typeof extension.report',
      `[${SCOPE_CALLS.map((n) => `typeof ${n}`).join(', ')}].every((t) => t === 'function')`,
      'callPluginsSync("shop", "checkout", { total: 3 }).map((r) => r.state).join(",")',
      'disablePlugin("audit", "shop", "checkout")',
      'callPluginsSync("shop", "checkout", { total: 4 }).length',
    ]);
    expect(text.startsWith('hello operator\n')).toBe(true);
    expect(text).toContain("'function'");
    expect(text).toContain('true');
    expect(text).toContain("'EXIT,ok'");
    expect(text).toMatch(/extpoint> 1\n/);
    // The session acted on the extension itself.
    expect(ext.report().plugins.find((p) => p.module === 'audit' && p.fn === 'shop_checkout_Plugin')?.enabled).toBe(false);
  });

  it('runs piped lines one after another, each await finished before the next line', async () => {
    const ext = makeHost();
    const { text } = await runPiped(ext, [
      'const slow = await new Promise((resolve) => setTimeout(() => resolve(41), 30))',
      'slow + 1',
      'const results = await callPlugins("shop", "refund")',
      'results.map((r) => r.data).join("|")',
    ]);
    expect(text).toContain('42');
    expect(text).not.toContain('NaN');
    expect(text).toContain("'logged'");
  });

  it('prints report() as the text tables, without colour when colour is off', async () => {
    const ext = makeHost();
    ext.callPluginsSync('shop', 'checkout', { total: 1 });
    const { text } = await runPiped(ext, ['report()']);
    expect(text).toMatch(/shop_checkout_Extension\s+shop\s+local\s+enable\s+1\s+1/);
    expect(text).toMatch(/audit shop_checkout_Plugin #1 at \S+: Error: audit store unreachable/);
    expect(text).not.toContain('\u001b[');
  });

  it('colours results when asked', async () => {
    const { text } = await runPiped(makeHost(), ['report()', '"a string"'], true);
    expect(text).toContain('\u001b[');
  });

  it('reports a thrown error and goes on; .exit ends the session but not the extension', async () => {
    const ext = makeHost();
    const { text, repl } = await runPiped(ext, ['enablePoint("bad name", "x")', '1 + 1', '.exit', '2 + 2']);
    expect(text).toMatch(/TypeError/);
    expect(text).toContain('2\n');
    expect(text).not.toContain('4\n');
    expect((repl as unknown as { closed: boolean }).closed).toBe(true);
    expect(ext.callPluginsSync('shop', 'refund')).toHaveLength(1);
  });

  it('a failing input stream ends only that session, even on a terminal', async () => {
    const ext = makeHost();
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    input.on('error', () => {}); // as the attach server's own listener
    const repl = await startReplSession(ext, { input, output, terminal: true, color: false });
    const exited = new Promise((done) => repl.once('exit', done));
    input.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await exited;
    expect(ext.callPluginsSync('shop', 'refund')).toHaveLength(1);
  });

  it('prints a rejected promise left without await instead of making it the host\'s unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const { text } = await runPiped(makeHost(), ['callPlugins("bad name", "x")', 'await Promise.reject(new Error("awaited"))', '"after"']);
      await new Promise((resolve) => setTimeout(resolve, 20)); // let Node's rejection tracking run
      expect(text).toMatch(/<rejected> TypeError: extpoint: invalid module name "bad name"/);
      expect(text).toContain('Uncaught Error: awaited');
      expect(text).toContain("'after'");
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
  });

  it('creates no domain, which would slow every promise of the host for good', async () => {
    const { Domain } = await import('node:domain');
    const { repl } = await runPiped(makeHost(), ['1']);
    // The REPL keeps the domain it runs in as _domain (Node internals, read here only to check this).
    expect((repl as unknown as { _domain: unknown })._domain).not.toBeInstanceOf(Domain);
    expect(process.domain ?? null).toBeNull();
  });

  it('puts the scope back after .clear', async () => {
    const { text } = await runPiped(makeHost(), ['var mine = 1', '.clear', 'typeof mine', 'report().plugins.length']);
    expect(text).toContain("'undefined'");
    expect(text).toMatch(/extpoint> 4\n/);
  });

  it('keeps each session in its own scope', async () => {
    const ext = makeHost();
    await runPiped(ext, ['var secret = 7']);
    const { text } = await runPiped(ext, ['typeof secret']);
    expect(text).toContain("'undefined'");
  });
});

describe('completion of module and point names', () => {
  const ext = makeHost();

  it('completes the module argument of a call', () => {
    expect(completeNames(ext, 'callPlugins("sh')).toEqual([['shipping', 'shop'], 'sh']);
    expect(completeNames(ext, "await extension.callPluginsSync('')")).toBeNull(); // quote closed: not an open argument
    expect(completeNames(ext, "await extension.callPluginsSync('")).toEqual([['shipping', 'shop'], '']);
  });

  it('completes the point argument from the module given', () => {
    expect(completeNames(ext, 'disablePoint("shop", "')).toEqual([['checkout', 'refund'], '']);
    expect(completeNames(ext, "pipe('shop', 'ch")).toEqual([['checkout'], 'ch']);
    expect(completeNames(ext, 'profile("shipping", "')).toEqual([['dispatch'], '']);
    expect(completeNames(ext, 'profile("nowhere", "')).toEqual([[], '']);
  });

  it('completes a plugin module, then only what it serves', () => {
    expect(completeNames(ext, 'disablePlugin("')).toEqual([['audit', 'mailer', 'shop'], '']);
    expect(completeNames(ext, 'disablePlugin("mailer", "')).toEqual([['shipping'], '']);
    expect(completeNames(ext, 'enablePlugin("audit", "shop", "r')).toEqual([['refund'], 'r']);
  });

  it('leaves other lines to Node', () => {
    expect(completeNames(ext, 'repo')).toBeNull();
    expect(completeNames(ext, 'console.log("')).toBeNull();
    expect(completeNames(ext, 'callPlugins("shop", "checkout", "')).toBeNull();
  });

  it('is what the session completes with, falling back to Node for the rest', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const repl = await startReplSession(ext, { input, output, terminal: true, color: false });
    const complete = (line: string) =>
      new Promise<[string[], string]>((done, fail) =>
        (repl as unknown as { completer: (l: string, cb: (e: Error | null, r?: [string[], string]) => void) => void }).completer(
          line,
          (err, result) => (err ? fail(err) : done(result!)),
        ),
      );
    expect(await complete('enablePoint("shop", "re')).toEqual([['refund'], 're']);
    const [names] = await complete('disableP');
    expect(names.flat()).toEqual(expect.arrayContaining(['disablePlugin', 'disablePoint']));
    repl.close();
  });
});
