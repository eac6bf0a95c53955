/**
 * Runs `node args...` as a child process and collects what it printed: the one way the end-to-end tests
 * start the built CLI and host scripts. Input is piped and then closed, so a command that reads stdin ends.
 */
import { spawn } from 'node:child_process';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** What to pipe to stdin before closing it. Default nothing. */
  input?: string;
  /** Added to (and overriding) this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (and group of the same number), when the tests run as root. */
  uid?: number;
}

export function runNode(args: string[], { input = '', env = {}, cwd, uid }: RunOptions = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const as = uid === undefined ? {} : { uid, gid: uid };
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'pipe', ...(cwd === undefined ? {} : { cwd }), ...as });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
