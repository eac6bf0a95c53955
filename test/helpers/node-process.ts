/**
 * A real remote plugin node for the cluster tests: the built `extpoint node` command in a child process,
 * started and waited for until it says it serves, killed by pid (SIGKILL for a crash, SIGTERM to close).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface NodeProcess {
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once it ended. */
  exited: Promise<number | string | null>;
  /** SIGKILL: a crash, no bye. */
  kill9(): Promise<void>;
  /** SIGTERM: a clean close. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every node process still running (for afterAll). */
export async function killAllNodes(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const gone = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      return gone;
    }),
  );
}

/**
 * Starts `extpoint node ...args`; resolves once it printed that it serves, or rejects with what it said
 * when it exited first.
 */
export function startNodeProcess(args: string[]): Promise<NodeProcess> {
  const child = spawn(process.execPath, [CLI, 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | string | null>((done) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      done(code ?? signal);
    }),
  );
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const handle: NodeProcess = { pid: child.pid!, output: () => out, exited, kill9: () => end('SIGKILL'), stop: () => end('SIGTERM') };
  return new Promise((done, fail) => {
    const onData = (): void => {
      if (/: serving /.test(out)) {
        child.stdout!.off('data', onData);
        done(handle);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => fail(Object.assign(new Error(`extpoint node exited with ${code}: ${out}`), { code, output: out })));
  });
}

/** Polls `check` every 20 ms until it returns true; rejects after `ms` with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
