/**
 * A real `nats-server` for the cluster tests: JetStream on, a free loopback port, a temporary store
 * folder, optional token auth. `restart()` kills it (SIGKILL) and starts it again on the same port and
 * store, for the reconnect tests; `stop()` kills it by pid and removes its folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  pid(): number | undefined;
  /** Kills the server with SIGKILL and starts it again on the same port and store folder. */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL and leaves it down (until `start`). */
  kill(): Promise<void>;
  /** Starts it again after `kill`. */
  start(): Promise<void>;
  /** Kills it and removes its store folder. */
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** Clients must present this token. */
  token?: string;
}

/** A port nobody listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

/** Starts `nats-server -js` on a free port; resolves once it accepts connections. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'ep-nats-'));
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir];
    if (options.token !== undefined) args.push('--auth', options.token);
    const started = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-4000)));
    started.stderr!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-4000)));
    const failed = new Promise<never>((_, fail) => {
      started.once('error', (e) => fail(new Error(`nats-server did not start (is it installed? .ci/run installs it): ${e.message}`)));
      started.once('exit', (code) => fail(new Error(`nats-server exited with ${code}: ${log}`)));
    });
    failed.catch(() => {});
    for (let i = 0; i < 200; i++) {
      if (await Promise.race([accepts(port), failed])) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nats-server did not accept connections on port ${port} within 5 s: ${log}`);
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise((done) => running.once('exit', done));
    running.kill('SIGKILL');
    await gone;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    restart: async () => {
      await kill();
      await launch();
    },
    kill,
    start: launch,
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
