/**
 * The attach socket: in process (serveRepl's rules about the path, mode and sessions) and end to end (a host
 * started as a child process, operators attaching with the real `extpoint attach` command).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { chmod, lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, type Extension } from '../src/index.js';

const CLI = resolve('dist/cli.js');
const INDEX_URL = pathToFileURL(resolve('dist/index.js')).href;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ep-attach-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
const socketPath = () => join(dir, `s${++n}.sock`);

/** A child process whose output is collected, with a way to wait until it has printed something. */
interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  waitFor(pattern: RegExp | string): Promise<void>;
  exit: Promise<number | null>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function proc(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '', ...env }, stdio: 'pipe' });
  running.push(child);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    poke();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    poke();
  });
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => (poke(), done(code))));
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    waitFor(pattern) {
      const seen = () => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      return new Promise((done, fail) => {
        const check = () => {
          if (seen()) return done();
          if (child.exitCode !== null || child.signalCode !== null) {
            return fail(new Error(`exited before printing ${String(pattern)}; stdout: ${out}; stderr: ${err}`));
          }
          waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Writes a host program that registers two plugins on shop.checkout and serves a REPL on argv[2]. */
async function writeHost(): Promise<string> {
  const file = join(dir, 'host.mjs');
  await writeFile(
    file,
    `import { createExtension } from ${JSON.stringify(INDEX_URL)};
const ext = createExtension({ scanLoaded: false });
ext.registerModule('shop', {
  shop_checkout_Extension: (order) => ext.callPluginsSync('shop', 'checkout', order),
  shop_checkout_Plugin: (order) => ({ charged: order.total }),
});
ext.registerModule('audit', { shop_checkout_Plugin: () => { throw new Error('audit store unreachable'); } });
await ext.start();
const service = await ext.serveRepl(process.argv[2]);
console.log('serving ' + service.path);
const stop = async (signal) => { await ext.stop(signal); console.log('stopped by ' + signal); };
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
`,
  );
  return file;
}

describe('serveRepl in process', () => {
  const opened: Extension[] = [];
  afterEach(async () => {
    for (const ext of opened.splice(0)) await ext.stop();
  });
  const make = () => {
    const ext = createExtension({ scanLoaded: false });
    opened.push(ext);
    return ext;
  };

  it('creates the socket owner-only (mode 0600) and removes it on stop()', async () => {
    const ext = make();
    const path = socketPath();
    const service = await ext.serveRepl(path);
    expect(service.path).toBe(path);
    const stats = await lstat(path);
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o600);
    await ext.stop();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a path that exists and is not a socket, and leaves it alone', async () => {
    const path = join(dir, 'not-a-socket');
    await writeFile(path, 'precious');
    await expect(make().serveRepl(path)).rejects.toThrow(/exists and is not a socket; remove it or choose another path/);
    expect(existsSync(path)).toBe(true);
  });

  it('refuses a socket someone is serving on', async () => {
    const path = socketPath();
    const other = createServer(() => {});
    await new Promise<void>((done) => other.listen(path, done));
    try {
      await expect(make().serveRepl(path)).rejects.toThrow(/another process is serving on this socket/);
    } finally {
      await new Promise((done) => other.close(done));
    }
  });

  it('refuses bad arguments with a message that says what is expected', async () => {
    await expect(make().serveRepl('' as string)).rejects.toThrow(/serveRepl needs a socket path/);
    await expect(make().serveRepl(42 as unknown as string)).rejects.toThrow(TypeError);
  });

  it('serves several sessions; one vanishing leaves the others and the host untouched', async () => {
    const ext = make();
    ext.registerModule('shop', { shop_checkout_Plugin: (x: number) => x * 2 });
    const service = await ext.serveRepl(socketPath());
    const open = async () => {
      const socket = createConnection(service.path);
      let text = '';
      socket.setEncoding('utf8').on('data', (c: string) => (text += c));
      await new Promise((done) => socket.once('connect', done));
      socket.write('{"extpoint":1,"terminal":false,"color":false}\n');
      const until = (what: string) =>
        new Promise<void>((done) => {
          const check = () => (text.includes(what) ? (socket.off('data', check), done()) : undefined);
          socket.on('data', check);
          check();
        });
      return { socket, until, text: () => text };
    };
    const a = await open();
    const b = await open();
    await a.until('extpoint> ');
    await b.until('extpoint> ');
    expect(service.sessions).toBe(2);
    a.socket.destroy(); // gone without a word
    b.socket.write('callPluginsSync("shop", "checkout", 21)[0].data\n');
    await b.until('42');
    expect(ext.callPluginsSync('shop', 'checkout', 1)[0]!.data).toBe(2);
    b.socket.end('.exit\n');
    await new Promise((done) => b.socket.once('close', done));
    // The host notices both departures (polled; the test's timeout bounds it).
    await new Promise<void>((done) => {
      const check = () => (service.sessions === 0 ? done() : setImmediate(check));
      check();
    });
    expect(ext.callPluginsSync('shop', 'checkout', 2)[0]!.data).toBe(4);
  });

  it('completes names over the socket for a terminal session', async () => {
    const ext = make();
    ext.registerModule('shop', { shop_checkout_Extension: () => [], shop_checkout_Plugin: () => 1 });
    const service = await ext.serveRepl(socketPath());
    const socket: Socket = createConnection(service.path);
    let text = '';
    socket.setEncoding('utf8').on('data', (c: string) => (text += c));
    await new Promise((done) => socket.once('connect', done));
    socket.write('{"extpoint":1,"terminal":true,"color":false,"columns":100}\n');
    const until = (what: string) =>
      new Promise<void>((done) => {
        const check = () => (text.includes(what) ? (socket.off('data', check), done()) : undefined);
        socket.on('data', check);
        check();
      });
    await until('extpoint> ');
    socket.write('disablePoint("sh\t');
    await until('disablePoint("shop');
    socket.write('", "\t');
    await until('disablePoint("shop", "checkout');
    socket.write('")\r');
    await until('extpoint> ');
    await new Promise<void>((done) => {
      const check = () => (ext.report().points[0]?.enabled === false ? done() : setImmediate(check));
      check();
    });
    expect(ext.report().points[0]).toMatchObject({ fn: 'shop_checkout_Extension', enabled: false });
    socket.destroy();
  });

  it('stop() finishes even when an attached client never closes its side', async () => {
    const ext = createExtension({ scanLoaded: false });
    const path = socketPath();
    await ext.serveRepl(path);
    const stubborn = createConnection({ path, allowHalfOpen: true });
    stubborn.resume();
    const ended = new Promise((done) => stubborn.once('end', done)); // and never answers with its own end
    await new Promise((done) => stubborn.once('connect', done));
    stubborn.write('{"extpoint":1,"terminal":false,"color":false}\n');
    await new Promise<void>((done) => {
      let text = '';
      stubborn.on('data', (c: Buffer) => ((text += c.toString()), text.includes('extpoint> ') && done()));
    });
    await ext.stop();
    await ended;
    expect(existsSync(path)).toBe(false);
    stubborn.destroy();
  });

  it('a closed service can be closed again, and the path served anew', async () => {
    const ext = make();
    const path = socketPath();
    const service = await ext.serveRepl(path);
    await service.close();
    await service.close();
    expect(existsSync(path)).toBe(false);
    const again = await ext.serveRepl(path);
    expect((await lstat(again.path)).isSocket()).toBe(true);
  });
});

describe('extpoint attach, end to end', () => {
  it('attaches to a running host: two sessions at once, one closing does not disturb the other', async () => {
    const path = socketPath();
    const host = proc([await writeHost(), path]);
    await host.waitFor(`serving ${path}`);
    expect((await lstat(path)).mode & 0o777).toBe(0o600);

    const a = proc([CLI, 'attach', path]);
    const b = proc([CLI, 'attach', path]);
    await a.waitFor('extpoint> ');
    await b.waitFor('extpoint> ');
    expect(a.out()).toMatch(/attached to process \d+/);

    // A's change is visible to B: both act on the live host.
    a.child.stdin!.write('disablePlugin("audit", "shop", "checkout")\n');
    a.child.stdin!.write('callPluginsSync("shop", "checkout", { total: 5 }).length\n');
    await a.waitFor(/extpoint> 1\n/);
    a.child.stdin!.end('.exit\n');
    expect(await a.exit).toBe(0);

    b.child.stdin!.write('await callPlugins("shop", "checkout", { total: 7 })\n');
    await b.waitFor('charged: 7');
    b.child.stdin!.write('report()\n');
    await b.waitFor(/shop_checkout_Plugin\s+audit\s+local\s+disable\s+0\s+0/);
    b.child.stdin!.end();
    expect(await b.exit).toBe(0);
    expect(b.out()).not.toContain('\u001b[');
    expect(b.err()).toBe('');

    // .exit ends a session whose input stays open.
    const e = proc([CLI, 'attach', path]);
    e.child.stdin!.write('.exit\n');
    expect(await e.exit).toBe(0);
    e.child.stdin!.destroy();

    // A session killed outright does not take the host down.
    const c = proc([CLI, 'attach', path]);
    await c.waitFor('extpoint> ');
    c.child.kill('SIGKILL');
    await c.exit;
    const d = proc([CLI, 'attach', path]);
    d.child.stdin!.end('report().plugins.length\n');
    await d.waitFor(/extpoint> 2\n/);
    expect(await d.exit).toBe(0);
    expect(host.child.exitCode).toBeNull();

    host.child.kill('SIGTERM');
    await host.waitFor('stopped by SIGTERM');
    expect(await host.exit).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('a host that stops ends the attached sessions, which exit cleanly', async () => {
    const path = socketPath();
    const host = proc([await writeHost(), path]);
    await host.waitFor('serving');
    const a = proc([CLI, 'attach', path]);
    await a.waitFor('extpoint> ');
    host.child.kill('SIGINT');
    expect(await a.exit).toBe(0);
    expect(a.out()).toContain('the host stopped serving; session closed');
    expect(await host.exit).toBe(0);
  });

  it('a stale socket left by a killed host is replaced by the next one', async () => {
    const path = socketPath();
    const first = proc([await writeHost(), path]);
    await first.waitFor('serving');
    first.child.kill('SIGKILL');
    await first.exit;
    expect((await lstat(path)).isSocket()).toBe(true); // left behind

    const refused = proc([CLI, 'attach', path]);
    expect(await refused.exit).toBe(1);
    expect(refused.err()).toMatch(/nobody is serving on .*s\d+\.sock/);

    const second = proc([await writeHost(), path]);
    await second.waitFor(`serving ${path}`);
    const a = proc([CLI, 'attach', path]);
    a.child.stdin!.end('process.pid\n');
    await a.exit;
    expect(a.out()).toContain(String(second.child.pid));
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  });

  it('a host refuses to serve on a path that is not a socket', async () => {
    const path = join(dir, 'plain-file');
    await writeFile(path, 'x');
    const host = proc([await writeHost(), path]);
    expect(await host.exit).not.toBe(0);
    expect(host.err()).toMatch(/serveRepl cannot use .*plain-file: the path exists and is not a socket/);
  });

  it('explains a missing socket and a socket it may not open', async () => {
    const missing = proc([CLI, 'attach', join(dir, 'nothing-here.sock')]);
    expect(await missing.exit).toBe(1);
    expect(missing.err()).toMatch(/no socket at .*nothing-here\.sock: is the host running, and did it call extension\.serveRepl/);

    const notSocket = join(dir, 'regular');
    await writeFile(notSocket, '');
    await chmod(notSocket, 0o600);
    const wrong = proc([CLI, 'attach', notSocket]);
    expect(await wrong.exit).toBe(1);
    expect(wrong.err()).toMatch(/extpoint attach: /);
  });
});
