/**
 * The attach socket: a host serves REPL sessions on a Unix domain socket, one per connection, each with
 * the extension in scope. The socket is owner-only (mode 0600); a path that exists is refused unless it is
 * a stale socket left by a host of the same user (nobody answers on it), which is replaced. A session that
 * ends, fails or vanishes closes only itself.
 *
 * A connection may open with one line of JSON, the hello of `extpoint attach`, saying whether its side is
 * a terminal and wants colour; without it the session is plain text, as for `nc -U`.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { escapeControls } from './safe-text.js';
import { startReplSession, type ReplTarget } from './repl.js';
import { folderProblem, lengthProblem } from './socket-path.js';

/** A running attach socket. */
export interface ReplService {
  /** The socket's absolute path. */
  readonly path: string;
  /** How many sessions are attached now. */
  readonly sessions: number;
  /** Ends every session, stops listening and removes the socket. Safe to call twice. */
  close(): Promise<void>;
}

/** The first line `extpoint attach` sends. */
export interface AttachHello {
  extpoint: 1;
  terminal: boolean;
  color: boolean;
  columns?: number;
}

export const HELLO_PREFIX = '{"extpoint":1';
const HELLO_MAX = 1024;

/** The error for a socket path that cannot be served, naming the path and what to do. */
function refuse(path: string, why: string): Error {
  return new Error(`extpoint: serveRepl cannot use ${path}: ${why}`);
}

/** True when something answers on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      done(true);
    });
    probe.once('error', () => done(false));
  });
}

/** Makes sure `path` is free to listen on: absent, or a stale socket of this user, which is removed. */
async function claim(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw refuse(path, `it cannot be inspected (${(err as Error).message})`);
  }
  if (!stats.isSocket()) {
    throw refuse(path, 'the path exists and is not a socket; remove it or choose another path');
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw refuse(path, `the socket belongs to user ${stats.uid}, not to this process's user ${uid}; choose another path`);
  }
  if (await answers(path)) {
    throw refuse(path, 'another process is serving on this socket; stop it or choose another path');
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw refuse(path, `the stale socket cannot be removed (${err.message})`);
  });
}

/** Listens on `path` with the socket created owner-only (no moment where others may connect). */
function listenOwnerOnly(server: Server, path: string): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (err: NodeJS.ErrnoException) => fail(refuse(path, err.message));
    server.once('error', onError);
    let previous: number | undefined;
    try {
      previous = process.umask(0o177); // the bind below happens synchronously inside listen()
    } catch {
      previous = undefined; // worker threads cannot set the umask; the chmod below still applies
    }
    try {
      server.listen({ path, readableAll: false, writableAll: false }, () => {
        server.off('error', onError);
        done();
      });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

/** Reads the optional hello line, then runs one REPL session on the socket. */
function serveSession(extension: ReplTarget, socket: Socket, sessions: Set<Socket>): void {
  sessions.add(socket);
  socket.on('error', () => socket.destroy()); // a vanished operator closes only this session
  socket.once('close', () => sessions.delete(socket));

  let head = Buffer.alloc(0);
  let begun = false;
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const text = head.toString('utf8');
    const maybeHello = HELLO_PREFIX.startsWith(text.slice(0, HELLO_PREFIX.length)) && text.length < HELLO_MAX;
    const newline = text.indexOf('\n');
    if (maybeHello && newline < 0) return; // wait for the rest of the hello
    socket.off('data', onData);
    socket.pause();
    begun = true;
    let hello: Partial<AttachHello> = {};
    let rest = head;
    if (newline >= 0 && text.startsWith(HELLO_PREFIX)) {
      try {
        hello = JSON.parse(text.slice(0, newline)) as Partial<AttachHello>;
        rest = Buffer.from(text.slice(newline + 1), 'utf8');
      } catch {
        hello = {};
      }
    }
    if (rest.length > 0) socket.unshift(rest);
    void begin(hello);
  };
  socket.on('data', onData);
  socket.once('end', () => {
    if (!begun) socket.end(); // gone before a session began
  });

  const begin = async (hello: Partial<AttachHello>) => {
    if (typeof hello.columns === 'number' && hello.columns > 0) {
      (socket as unknown as { columns: number }).columns = hello.columns;
    }
    try {
      const repl = await startReplSession(extension, {
        input: socket,
        output: socket,
        terminal: hello.terminal === true,
        color: hello.color === true,
        banner: `extpoint: attached to process ${process.pid} (node ${escapeControls(extension.node)}). In scope: extension, report(), callPlugins(), enablePlugin(), disablePlugin(), ...; .help lists the commands; .exit leaves (the host keeps running).`,
      });
      repl.once('exit', () => socket.end());
      socket.once('close', () => repl.close());
      socket.resume();
    } catch (err) {
      socket.end(`extpoint: the session could not start: ${(err as Error).message}\n`);
    }
  };
}

/**
 * Serves REPL sessions on `extension` at the Unix domain socket `socketPath`.
 *
 * @throws Error (rejects) when the path is over the platform's socket path limit, its folder does not exist,
 * the path exists and is not a stale socket of this user, or it cannot be bound.
 */
export async function serveRepl(extension: ReplTarget, socketPath: string): Promise<ReplService> {
  if (typeof socketPath !== 'string' || socketPath.length === 0) {
    throw new TypeError(`extpoint: serveRepl needs a socket path (a string), not ${String(socketPath)}`);
  }
  if (process.platform === 'win32') {
    throw new Error('extpoint: serveRepl uses a Unix domain socket, which this platform does not offer');
  }
  const path = isAbsolute(socketPath) ? socketPath : resolve(socketPath);
  // Before anything listens: Node would cut a long path short, and call a missing folder "permission denied".
  const unusable = lengthProblem(path) ?? (await folderProblem(path));
  if (unusable !== null) throw refuse(path, unusable);
  await claim(path);
  const sessions = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => serveSession(extension, socket, sessions));
  server.on('error', () => {}); // after listening, an accept error must not crash the host
  await listenOwnerOnly(server, path);
  const { ino } = await lstat(path);

  let closing: Promise<void> | null = null;
  return {
    path,
    get sessions() {
      return sessions.size;
    },
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((done) => server.close(() => done()));
        for (const socket of sessions) {
          if (!socket.destroyed) socket.end('\nextpoint: the host stopped serving; session closed\n');
        }
        const timers = [...sessions].map((socket) => setTimeout(() => socket.destroy(), 1000).unref());
        await closed;
        timers.forEach(clearTimeout);
        // libuv removes the socket on close; make sure, without touching a file someone else put there.
        const now = await lstat(path).catch(() => null);
        if (now !== null && now.isSocket() && now.ino === ino) await unlink(path).catch(() => {});
      })();
      return closing;
    },
  };
}
