/**
 * `extpoint attach SOCKET`: connects this terminal (or piped input) to a REPL session served by a running
 * host. On a terminal, keys go to the host raw, so line editing and tab completion happen there; with
 * piped input, lines go as they are and the session ends when the input does.
 */
import { createConnection } from 'node:net';
import type { AttachHello } from './repl-server.js';
import { escapeControls } from './safe-text.js';
import { lengthProblem, trustProblem } from './socket-path.js';

/** The streams of the attaching side. */
export interface AttachStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** ANSI colour in results: the caller decides (the CLI with colorsFor: FORCE_COLOR, NO_COLOR, TERM). */
  color: boolean;
}

/** Why connecting failed, in the operator's terms, with what to do. */
function explain(path: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return `no socket at ${path}: is the host running, and did it call extension.serveRepl('${path}')?`;
    case 'ECONNREFUSED':
      return `nobody is serving on ${path}: the host that made this socket has stopped (start it again; it replaces the stale socket)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path}: the socket is owner-only (mode 0600); attach as the user that runs the host`;
    case 'ENOTSOCK':
      return `${path} is not a socket: pass the path the host gave to serveRepl`;
    default:
      return `cannot connect to ${path}: ${err.message}`;
  }
}

/**
 * Attaches to the REPL socket at `path`; resolves to the exit status (0 when the session ended normally).
 * A socket it has no reason to trust (see `trustProblem`), or a path the platform would cut short, is refused
 * before connecting: status 1.
 */
export async function attach(path: string, io: AttachStreams): Promise<number> {
  const refused = lengthProblem(path) ?? (await trustProblem(path));
  if (refused !== null) {
    io.stderr.write(`extpoint attach: ${escapeControls(refused)}\n`);
    io.stdin.destroy();
    return 1;
  }
  return connect(path, io);
}

function connect(path: string, io: AttachStreams): Promise<number> {
  return new Promise((done) => {
    const socket = createConnection({ path, allowHalfOpen: true });
    const terminal = io.stdin.isTTY === true && io.stdout.isTTY === true;
    let connected = false;
    let finished = false;
    const finish = (status: number) => {
      if (finished) return;
      finished = true;
      if (terminal) io.stdin.setRawMode(false);
      io.stdin.unpipe(socket);
      io.stdin.destroy(); // the rest of piped input is not read, and does not hold the process
      done(status);
    };

    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        io.stderr.write(`extpoint attach: ${escapeControls(explain(path, err))}\n`);
        finish(1);
      } else {
        io.stderr.write(`\nextpoint attach: connection lost: ${escapeControls(err.message)}\n`);
        finish(1);
      }
    });
    socket.once('connect', () => {
      connected = true;
      const hello: AttachHello = { extpoint: 1, terminal, color: terminal && io.color };
      if (terminal && io.stdout.columns) hello.columns = io.stdout.columns;
      socket.write(JSON.stringify(hello) + '\n');
      socket.pipe(io.stdout, { end: false });
      if (terminal) io.stdin.setRawMode(true);
      io.stdin.pipe(socket); // ends the socket's writing side when piped input ends
    });
    socket.once('end', () => {
      socket.end();
      finish(0);
    });
    socket.once('close', () => finish(0));
  });
}
