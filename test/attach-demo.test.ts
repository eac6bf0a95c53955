/**
 * The attachable demo end to end: `node demo/serve.js SOCKET` runs, an operator attaches with `extpoint attach`,
 * sees the live counters, switches a plugin off, and the host stops cleanly on SIGTERM.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ep-demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(args: string[]): { child: ChildProcessWithoutNullStreams; out: () => string; until: (text: string | RegExp) => Promise<void> } {
  const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const until = (text: string | RegExp) =>
    new Promise<void>((done, fail) => {
      const check = () => {
        if (typeof text === 'string' ? out.includes(text) : text.test(out)) return done();
        if (child.exitCode !== null) return fail(new Error(`exited before ${String(text)}: ${out}`));
        waiters.push(check);
      };
      check();
    });
  return { child, out: () => out, until };
}

it('demo/serve.js can be attached to while it runs, and stops cleanly', async () => {
  const socket = join(dir, 'demo.sock');
  const host = start([resolve('demo/serve.js'), socket]);
  try {
    await host.until(`attach:   node dist/cli.js attach ${socket}`);
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);

    const operator = start([resolve('dist/cli.js'), 'attach', socket]);
    operator.child.stdin.write('await new Promise((resolve) => setTimeout(resolve, 1100)); report()\n');
    await operator.until(/plugin_demo_point1_Plugin\s+plugin2\s+local\s+enable\s+0\s+[1-9]/);
    expect(operator.out()).toMatch(/plugin2 plugin_demo_point1_Plugin #\d+ at \S+: Error \[EBADMATCH\]: badmatch/);
    operator.child.stdin.end('disablePlugin("plugin2", "plugin_demo", "point1"); extension.callPluginsSync("plugin_demo", "point1", { order: 1 }).length\n');
    await new Promise((done) => operator.child.once('close', done));
    expect(operator.child.exitCode).toBe(0);
    expect(operator.out()).toMatch(/extpoint> 2\n/);
    expect(operator.out()).not.toContain('\u001b[');

    host.child.kill('SIGTERM');
    await host.until(/stopped \(SIGTERM\); \d+ calls made; socket removed/);
    await new Promise((done) => host.child.once('close', done));
    expect(host.child.exitCode).toBe(0);
    expect(existsSync(socket)).toBe(false);
  } finally {
    if (host.child.exitCode === null) host.child.kill('SIGKILL');
  }
});
