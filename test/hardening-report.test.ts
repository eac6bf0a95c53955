/**
 * What the operator sees can never be turned against the operator or the host (issue 16, items 12 to 14;
 * issue 17, items 5 and 11): whatever a plugin throws or returns, every formatter of the report works,
 * the JSON report is JSON-safe, the REPL (local and attached over a real socket) and the CLI keep running,
 * control characters are printed escaped, and colour follows NO_COLOR, FORCE_COLOR, TERM=dumb and the
 * stream's own hasColors().
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import * as api from '../src/index.js';
import type { Extension, Report } from '../src/index.js';

const CLI = resolve('dist/cli.js');
const INDEX_URL = pathToFileURL(resolve('dist/index.js')).href;

/** Any control character a terminal could act on (newline aside), or a bidirectional override. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** What the plugin below tries to send to the terminal, each piece on its own. */
const PLUGIN_SEQUENCES = ['\u001b]0;pwned', '\u001b[2J', '\u001b[31mred', '\u009b31m', '\r', '\u202e'];

/**
 * A plugin module with two points: `throw` throws, and `give` returns, a hostile value of the kind its
 * argument names. Written to a real file, loaded the way a host loads plugins.
 */
const HOSTILE_PLUGIN = `const { inspect } = require('node:util');
const make = {
  selfish() { const e = new Error('selfish'); e[inspect.custom] = () => { throw e; }; return e; },
  trap() {
    const boom = () => { throw new Error('trap'); };
    return new Proxy({}, { get: boom, getPrototypeOf: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, has: boom });
  },
  revoked() { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; },
  badStack() { const e = new Error('bad stack'); Object.defineProperty(e, 'stack', { get() { throw e; } }); return e; },
  badMessage() {
    const e = new Error('hidden');
    for (const key of ['message', 'name', 'code']) Object.defineProperty(e, key, { get() { throw new Error(key + ' getter'); } });
    return e;
  },
  circular() { const detail = { big: 10n }; detail.self = detail; return Object.assign(new Error('circular'), { code: 'ECIRC', detail }); },
  escapes() { return new Error('\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[31mred\\u009b31m\\rover\\u202eevil'); },
  primitive() { return { toString() { throw new Error('no string'); }, [Symbol.toPrimitive]() { throw new Error('no primitive'); } }; },
  bigint() { return 10n; },
  symbol() { return Symbol('sym\\u001b[2J'); },
  getter() { return { get x() { throw new Error('getter'); }, y: 1 }; },
  nullProto() { return Object.assign(Object.create(null), { a: 1 }); },
  nothing() { return undefined; },
};
exports.hostile_throw_Plugin = (kind) => { throw make[kind](); };
exports.hostile_give_Plugin = (kind) => make[kind]();
`;

const KINDS = ['selfish', 'trap', 'revoked', 'badStack', 'badMessage', 'circular', 'escapes', 'primitive', 'bigint', 'symbol', 'getter', 'nullProto', 'nothing'];

let root: string;
let plugins: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ep-hard-report-'));
  plugins = join(root, 'plugins');
  await mkdir(plugins);
  await writeFile(join(plugins, 'hostile.cjs'), HOSTILE_PLUGIN);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const opened: Extension[] = [];
afterEach(async () => {
  for (const ext of opened.splice(0)) await ext.stop();
});

async function hostileHost(): Promise<Extension> {
  const ext = api.createExtension({ scanLoaded: false, pluginDirs: [plugins], watch: false });
  opened.push(ext);
  await ext.start();
  expect(ext.report().plugins.map((p) => p.fn)).toEqual(['hostile_give_Plugin', 'hostile_throw_Plugin']);
  return ext;
}

/** The exported JSON-safe report function. */
const jsonReport = (report: Report): unknown => (api as unknown as { jsonReport: (r: Report) => unknown }).jsonReport(report);

describe('every formatter of the report, whatever a plugin threw', () => {
  it.each(KINDS)('survives a plugin that throws %s', async (kind) => {
    const ext = await hostileHost();
    const [result] = ext.callPluginsSync('hostile', 'throw', kind);
    expect(result!.state).toBe('EXIT');
    const report = ext.report();
    const text = String(report);
    expect(text).toMatch(/last exit of each failing plugin\n {2}hostile hostile_throw_Plugin #1 at \S+: \S/);
    expect(inspect(report)).toBe(text);
    expect(inspect(report, { colors: true }).replace(/\u001b\[\d+m/g, '')).toBe(text);
    const json = JSON.stringify(report);
    const parsed = JSON.parse(json) as { status: { exitReasons: { reason: unknown }[] } };
    expect(parsed.status.exitReasons).toHaveLength(1);
    expect(jsonReport(report)).toEqual(parsed); // already JSON-safe: nothing lost or changed by a round trip
  });

  it('turns an Error into { name, message, code, stack }, a BigInt into a string, and cuts a circle', async () => {
    const ext = await hostileHost();
    for (const kind of ['circular', 'bigint', 'symbol', 'nothing']) ext.callPluginsSync('hostile', 'throw', kind);
    const reasons = (jsonReport(ext.report()) as { status: { exitReasons: { reason: unknown }[] } }).status.exitReasons.map((e) => e.reason);
    expect(reasons[0]).toEqual({
      name: 'Error',
      message: 'circular',
      code: 'ECIRC',
      stack: expect.stringMatching(/^Error: circular\n\s+at /),
      detail: { big: '10', self: '[Circular]' },
    });
    expect(reasons[1]).toBe('10');
    expect(reasons[2]).toBe('Symbol(sym\u001b[2J)');
    expect(reasons[3]).toBeNull();
  });

  it('describes what it cannot read instead of reading it', async () => {
    const ext = await hostileHost();
    for (const kind of ['trap', 'revoked', 'badMessage', 'getter']) ext.callPluginsSync('hostile', 'throw', kind);
    const reasons = (jsonReport(ext.report()) as { status: { exitReasons: { reason: unknown }[] } }).status.exitReasons.map((e) => e.reason);
    expect(reasons[0]).toMatch(/Proxy/);
    expect(reasons[1]).toMatch(/revoked Proxy/i);
    expect(reasons[2]).toMatchObject({ name: expect.stringMatching(/threw/), message: expect.stringMatching(/threw/), code: expect.stringMatching(/threw/) });
    expect(reasons[3]).toEqual({ x: '[Getter]', y: 1 });
    // In memory the report still holds what was thrown, for programs that inspect it.
    expect(ext.report().status.exitReasons[2]!.reason).toBeInstanceOf(Error);
  });

  it('survives a hostile stop or restart reason', async () => {
    const ext = await hostileHost();
    const boom = () => {
      throw new Error('trap');
    };
    const trap = new Proxy({}, { get: boom, getPrototypeOf: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, has: boom });
    await ext.restart(trap);
    await ext.restart(10n);
    const text = String(ext.report());
    expect(text).toMatch(/last terminate #2 at \S+: 10n?$/);
    expect(JSON.parse(JSON.stringify(ext.report())).status.terminateReasons[0].reason).toMatch(/Proxy/);
  });

  it('prints control characters escaped: a plugin cannot write to the terminal through the report', async () => {
    const ext = await hostileHost();
    ext.callPluginsSync('hostile', 'throw', 'escapes');
    await ext.restart('stopped\u001b[8m hidden');
    for (const text of [String(ext.report()), inspect(ext.report(), { colors: true })]) {
      for (const sequence of PLUGIN_SEQUENCES) expect(text).not.toContain(sequence);
      expect(text).toContain('\\x1B]0;pwned\\x07\\x1B[2J\\x1B[31mred\\x9B31m\\rover\\u202Eevil');
      expect(text).toContain('stopped\\x1B[8m hidden');
    }
    expect(String(ext.report())).not.toMatch(RAW_CONTROL);
  });
});

/** A child process whose output is collected. */
interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  waitFor(text: string): Promise<void>;
  exit: Promise<number | null>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function proc(command: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Proc {
  const child = spawn(command, args, { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...env }, stdio: 'pipe' });
  running.push(child);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (c: string) => ((out += c), poke()));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => ((err += c), poke()));
  const exit = new Promise<number | null>((done) => child.once('close', (code) => (poke(), done(code))));
  if (input !== undefined) child.stdin!.end(input);
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    waitFor(text) {
      return new Promise((done, fail) => {
        const check = () => {
          if (out.includes(text)) return done();
          if (child.exitCode !== null || child.signalCode !== null) return fail(new Error(`exited before printing ${text}; stdout: ${out}; stderr: ${err}`));
          waiters.push(check);
        };
        check();
      });
    },
  };
}

const extpoint = (args: string[], input = '', env: NodeJS.ProcessEnv = {}) => proc(process.execPath, [CLI, ...args], env, input);

/** What an operator types: hostile results, a report, hostile throws, then a line that shows the session lives. */
const OPERATOR_LINES = [
  'callPluginsSync("hostile", "throw", "selfish")',
  'callPluginsSync("hostile", "give", "selfish")',
  'callPluginsSync("hostile", "give", "badStack")',
  'callPluginsSync("hostile", "give", "badMessage")',
  'callPluginsSync("hostile", "give", "trap")',
  'callPluginsSync("hostile", "give", "escapes")',
  'await callPlugins("hostile", "throw", "badStack")',
  'report()',
  'throw callPluginsSync("hostile", "give", "selfish")[0].data',
  'throw callPluginsSync("hostile", "give", "badStack")[0].data',
  'throw callPluginsSync("hostile", "give", "badMessage")[0].data',
  'throw new Proxy({}, { get() { throw new Error("get") }, getPrototypeOf() { throw new Error("proto") } })',
  'new Proxy({}, { get() { throw new Error("get") }, getPrototypeOf() { throw new Error("proto") } })',
  'throw callPluginsSync("hostile", "give", "escapes")[0].data',
  '"json " + typeof jsonReport(report({ failing: true })).status.exitReasons[0].reason.stack',
  '"alive " + (40 + 2)',
  '.exit',
].join('\n') + '\n';

function expectSurvivedSession(out: string): void {
  expect(out).toContain("'alive 42'");
  expect(out).toContain("'json string'"); // the JSON report is in the session's scope
  expect(out).toContain("message: 'bad stack'"); // a result that inspect cannot show is shown as data
  expect(out).toMatch(/hostile hostile_throw_Plugin #\d+ at \S+: /); // the report printed
  for (const sequence of PLUGIN_SEQUENCES) expect(out).not.toContain(sequence);
  expect(out).not.toMatch(RAW_CONTROL);
}

describe('the REPL and the CLI never die from what they print', () => {
  it('extpoint repl prints hostile results, reports and throws, and goes on', async () => {
    const run = extpoint(['repl', '--plugins', plugins], OPERATOR_LINES);
    expect(await run.exit).toBe(0);
    expectSurvivedSession(run.out());
  });

  it('an attached session over a real socket does the same, and the host lives on', async () => {
    const hostFile = join(root, 'host.mjs');
    await writeFile(
      hostFile,
      `import { createExtension } from ${JSON.stringify(INDEX_URL)};
const ext = createExtension({ scanLoaded: false, pluginDirs: [${JSON.stringify(plugins)}], watch: false });
await ext.start();
const service = await ext.serveRepl(process.argv[2]);
console.log('serving ' + service.path);
process.once('SIGTERM', () => void ext.stop('SIGTERM'));
`,
    );
    const socket = join(root, 'hostile.sock');
    const host = proc(process.execPath, [hostFile, socket]);
    await host.waitFor('serving');
    const operator = extpoint(['attach', socket], OPERATOR_LINES);
    expect(await operator.exit).toBe(0);
    expectSurvivedSession(operator.out());
    expect(host.child.exitCode).toBeNull();
    const again = extpoint(['attach', socket], 'report().status.exitReasons.length\n');
    expect(await again.exit).toBe(0);
    expect(again.out()).toMatch(/extpoint> [1-9]\d*\n/);
    expect(host.child.exitCode).toBeNull();
    expect(host.err()).toBe('');
    host.child.kill('SIGTERM');
    await host.exit;
  });
});

describe('the CLI prints control characters escaped', () => {
  let folder: string;
  beforeAll(async () => {
    folder = join(root, 'escapes');
    await mkdir(folder);
    await writeFile(join(folder, 'evil\u001b[31mred.cjs'), 'exports.shop_x_Plugin = () => 1;');
    await writeFile(join(folder, 'top.cjs'), 'throw new Error("boom \\u001b]0;title\\u0007 \\u001b[2J cleared \\u009b1m");');
  });

  it('in the text report, the JSON report and check', async () => {
    for (const args of [['report', '--plugins', folder], ['report', '--json', '--plugins', folder], ['check', folder]]) {
      const run = extpoint(args);
      await run.exit;
      expect(run.out()).toContain('boom');
      expect(run.out()).not.toMatch(RAW_CONTROL);
      expect(run.err()).not.toMatch(RAW_CONTROL);
    }
    const json = extpoint(['report', '--json', '--plugins', folder]);
    await json.exit;
    const report = JSON.parse(json.out()) as { status: { loadErrors: { message: string }[] } };
    expect(report.status.loadErrors.some((e) => e.message.includes('boom \u001b]0;title\u0007 \u001b[2J cleared \u009b1m'))).toBe(true);
  });

  it('in its error messages', async () => {
    const cases = [
      ['report', '--plugins', join(root, 'missing\u001b[2J')],
      ['check', join(root, 'missing\u001b]0;t\u0007')],
      ['report', '--colour\u001b[2J'],
      ['attach', join(root, 'nothing\u001b[31m.sock')],
    ];
    for (const args of cases) {
      const run = extpoint(args);
      expect(await run.exit).not.toBe(0);
      expect(run.err()).toContain('\\x1B');
      expect(run.err()).not.toMatch(RAW_CONTROL);
    }
  });
});

/** An SGR sequence (colour, bold): what `--no-color` environments must never get. */
const SGR = /\u001b\[[\d;]*m/;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), so that its stdout is a TTY. The variables
 * Node reads to turn colour off (CI without a known vendor, NODE_DISABLE_COLORS, NO_COLOR) are cleared,
 * so that the terminal starts as a colour one wherever the tests run; each case sets what it tests.
 */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, input = ''): Proc {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const colourTerminal = { NO_COLOR: undefined, NODE_DISABLE_COLORS: undefined, CI: undefined, TERM: 'xterm-256color' };
  return proc('script', ['-qec', command, '/dev/null'], { ...colourTerminal, ...env }, input);
}

describe('colour follows the environment and the terminal', () => {
  let folder: string;
  beforeAll(async () => {
    folder = join(root, 'colours');
    await mkdir(folder);
    await writeFile(join(folder, 'shop.cjs'), 'exports.shop_checkout_Extension = () => [];\nexports.shop_checkout_Plugin = () => 1;');
  });

  it('colours the report on a colour terminal, not with TERM=dumb, NO_COLOR or FORCE_COLOR=0', async () => {
    const cases: [NodeJS.ProcessEnv, boolean][] = [
      [{}, true],
      [{ TERM: 'dumb' }, false],
      [{ NO_COLOR: '1' }, false],
      [{ FORCE_COLOR: '0' }, false],
      [{ NODE_DISABLE_COLORS: '1' }, false],
      [{ CI: 'true' }, false],
    ];
    for (const [env, coloured] of cases) {
      const run = onTerminal(['report', '--plugins', folder], env);
      expect(await run.exit).toBe(0);
      expect(run.out()).toContain('shop_checkout_Plugin');
      expect({ env, coloured: SGR.test(run.out()) }).toEqual({ env, coloured });
    }
  });

  it('colours piped output only when FORCE_COLOR asks for it', async () => {
    const forced = extpoint(['report', '--plugins', folder], '', { NO_COLOR: undefined, FORCE_COLOR: '1' });
    const plain = extpoint(['report', '--plugins', folder], '', { NO_COLOR: undefined });
    await Promise.all([forced.exit, plain.exit]);
    expect(forced.out()).toMatch(SGR);
    expect(plain.out()).toContain('shop_checkout_Plugin');
    expect(plain.out()).not.toMatch(SGR);
  });

  it('the REPL on a terminal colours results, but not with TERM=dumb', async () => {
    const coloured = onTerminal(['repl', '--plugins', folder], {}, '40 + 2\n.exit\n');
    const dumb = onTerminal(['repl', '--plugins', folder], { TERM: 'dumb' }, '40 + 2\n.exit\n');
    await Promise.all([coloured.exit, dumb.exit]);
    expect(coloured.out()).toContain('\u001b[33m42\u001b[39m');
    expect(dumb.out()).toContain('42');
    expect(dumb.out()).not.toMatch(SGR);
  });
});
