/**
 * Hardening of the attach socket (issue 16, items 19 and 20): `serveRepl` refuses a path the platform
 * would truncate and a folder that does not exist, before anything listens; `extpoint attach` (the real
 * command, in a child process) refuses a socket it has no reason to trust, saying which rule and the fix.
 * Real sockets in a temp folder; the tests run as root, so ownership is changed with chown.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createExtension, type Extension } from '../src/index.js';
import { runNode, type Run } from './helpers/run-node.js';

const CLI = resolve('dist/cli.js');
const posix = process.platform !== 'win32';
const me = posix ? process.getuid!() : -1;
/** The longest socket path Linux binds without cutting it: sun_path is 108 bytes, no terminating NUL needed. */
const LINUX_LIMIT = 108;

let dir: string;
beforeAll(async () => {
  dir = realpathSync(await mkdtemp(join(tmpdir(), 'ep-hsock-')));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opened: Extension[] = [];
const servers: Server[] = [];
const connections: Socket[] = [];
afterEach(async () => {
  for (const ext of opened.splice(0)) await ext.stop();
  for (const server of servers.splice(0)) {
    const closed = new Promise((done) => server.close(done));
    for (const socket of connections.splice(0)) socket.destroy();
    await closed;
  }
});
const make = () => {
  const ext = createExtension({ scanLoaded: false });
  opened.push(ext);
  return ext;
};

/** A path of exactly `bytes` bytes inside `folder`. */
const pathOfLength = (folder: string, bytes: number) => join(folder, 'p'.repeat(bytes - folder.length - 1));

/** A plain socket server listening at `path` (not a REPL: attach's checks come before any session). */
async function listen(path: string): Promise<Server> {
  const server = createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
    socket.end("extpoint: a stranger's socket\n");
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(path, done));
  return server;
}

/** Runs `extpoint attach path` with closed stdin; resolves with its exit status and output. */
function attach(path: string): Promise<Run> {
  return runNode([CLI, 'attach', path], { env: { NO_COLOR: '1' } });
}

describe.runIf(posix)('serveRepl: the socket path limit and a missing folder', () => {
  it.runIf(process.platform === 'linux')('serves at exactly the limit, and refuses one byte more naming the limit, with nothing left listening', async () => {
    const folder = join(dir, 'limit');
    await mkdir(folder);
    const fits = pathOfLength(folder, LINUX_LIMIT);
    const service = await make().serveRepl(fits);
    expect(service.path).toBe(fits);
    await service.close();
    expect(await readdir(folder)).toEqual([]);

    const tooLong = pathOfLength(folder, LINUX_LIMIT + 1);
    const err = await make()
      .serveRepl(tooLong)
      .then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(tooLong);
    expect(err!.message).toMatch(new RegExp(`is ${LINUX_LIMIT + 1} bytes long.*limit.*${LINUX_LIMIT} bytes`));
    expect(err!.message).toMatch(/shorter path/);
    // Nothing was bound, neither at the path nor at the path cut to the limit.
    expect(await readdir(folder)).toEqual([]);
  });

  it('refuses a path far over any limit before listening, and leaves no socket anywhere', async () => {
    const folder = join(dir, 'far');
    await mkdir(folder);
    const tooLong = join(folder, 'x'.repeat(300) + '.sock');
    await expect(make().serveRepl(tooLong)).rejects.toThrow(/socket path limit/);
    expect(await readdir(folder)).toEqual([]);
  });

  it('says the folder does not exist (not "permission denied") when serving in a missing folder', async () => {
    const missing = join(dir, 'no-such-folder', 'deeper');
    const path = join(missing, 'repl.sock');
    const err = await make()
      .serveRepl(path)
      .then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`the folder ${missing} does not exist`);
    expect(err!.message).toMatch(/mkdir/);
    expect(err!.message).not.toMatch(/permission denied|EACCES/i);
    expect(existsSync(missing)).toBe(false);
  });

  it('says so when the socket\'s folder is a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    await expect(make().serveRepl(join(file, 'repl.sock'))).rejects.toThrow(new RegExp(`${file} is not a folder`));
  });
});

describe.runIf(posix)('extpoint attach refuses a socket it does not trust', () => {
  it('a regular file: "not a socket", and what to pass instead', async () => {
    const file = join(dir, 'regular.sock');
    await writeFile(file, '');
    await chmod(file, 0o600);
    const run = await attach(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} is not a socket`);
    expect(run.stderr).toMatch(/the path the host gave to serveRepl/);
    expect(run.stdout).toBe('');
  });

  it.runIf(me === 0)('a socket owned by another user: names the owner and the fix, never connects', async () => {
    const folder = join(dir, 'theirs');
    await mkdir(folder, { mode: 0o755 });
    const path = join(folder, 'repl.sock');
    let connected = false;
    const server = await listen(path);
    server.on('connection', () => (connected = true));
    await chown(path, 4242, 4242);
    const run = await attach(path);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`${path} is owned by uid 4242, not by you \\(uid ${me}\\) or root`));
    expect(run.stderr).toMatch(/attach as the user that runs the host/);
    expect(connected).toBe(false);
  });

  it('a socket in a world-writable folder without the sticky bit: says so and how to fix it; with the bit it attaches', async () => {
    const folder = join(dir, 'open');
    await mkdir(folder);
    await chmod(folder, 0o777);
    const path = join(folder, 'repl.sock');
    let connected = false;
    const server = await listen(path);
    server.on('connection', () => (connected = true));
    const run = await attach(path);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${folder} is world-writable (mode 0777) without the sticky bit`);
    expect(run.stderr).toMatch(/chmod \+t|chmod o-w/);
    expect(connected).toBe(false);

    // Like /tmp: world-writable with the sticky bit, so nobody can replace another user's socket.
    await chmod(folder, 0o1777);
    const ok = await attach(path);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain("a stranger's socket");
    expect(ok.code).toBe(0);
  });

  it('a socket path over the limit is refused before connecting to a cut-short path', async () => {
    const tooLong = join(dir, 'y'.repeat(300) + '.sock');
    const run = await attach(tooLong);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/socket path limit/);
  });

  it('still attaches to a socket that passes every rule', async () => {
    const folder = join(dir, 'mine');
    await mkdir(folder, { mode: 0o700 });
    const path = join(folder, 'repl.sock');
    const service = await make().serveRepl(path);
    const run = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = spawn(process.execPath, [CLI, 'attach', service.path], { env: { ...process.env, NO_COLOR: '1' }, stdio: 'pipe' });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.once('close', (code) => done({ code, stdout }));
      child.stdin.end('1 + 41\n');
    });
    expect(run.stdout).toContain('42');
    expect(run.code).toBe(0);
  });
});
