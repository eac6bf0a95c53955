/**
 * Cluster-wide flags: a real nats-server with JetStream, two (or three) extension instances in this
 * process, and host processes run from the built dist/ for the restart case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, type KV, type NatsConnection } from 'nats';
import { createExtension, type Extension } from '../src/index.js';
import { flagBucket } from '../src/state/cluster-flags.js';
import { decodeToken, encodeToken, flagKey, parseFlagKey } from '../src/state/flag-keys.js';
import { freePort, startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { runNode } from './helpers/run-node.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

const INDEX = pathToFileURL(resolve('dist/index.js')).href;

/** Waits until `check` holds (polling), failing with `what` after 10 s. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** The plugin modules of the results of one call. */
async function ran(ext: Extension, module = 'billing', point = 'checkout'): Promise<string[]> {
  return (await ext.callPlugins(module, point, {})).map((r) => r.info.module);
}

/** A host with two plugins on billing/checkout. */
function host(server: NatsServer, cluster = 'c1', extra: Parameters<typeof createExtension>[0] = {}): Extension {
  const ext = createExtension({ scanLoaded: false, cluster: { servers: server.url, name: cluster }, ...extra });
  ext.registerModule('anat', { billing_checkout_Plugin: () => 'anat' });
  ext.registerModule('tax', { billing_checkout_Plugin: () => 'tax' });
  return ext;
}

let server: NatsServer;
let raw: NatsConnection;
const started: Extension[] = [];
const folders: string[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  raw = await connect({ servers: server.url });
});

afterAll(async () => {
  for (const ext of started) await ext.stop();
  await raw?.close();
  await server?.stop();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function start(ext: Extension): Promise<Extension> {
  await ext.start();
  started.push(ext);
  return ext;
}

async function bucket(cluster: string): Promise<KV> {
  return raw.jetstream().views.kv(flagBucket(cluster));
}

describe('flag keys', () => {
  it('spell any name safely and read back only what they wrote', () => {
    for (const name of ['billing', 'billing.eu', 'a$b', 'a=b', 'ümlaut node', '-_', 'x/y*>']) {
      const token = encodeToken(name);
      expect(token).toMatch(/^[-_=A-Za-z0-9]+$/);
      expect(decodeToken(token)).toBe(name);
    }
    expect(decodeToken('=61')).toBeNull(); // an escaped letter: a second spelling of "a"
    expect(decodeToken('=ZZ')).toBeNull();
    expect(decodeToken('=FF')).toBeNull(); // not UTF-8
    const ref = { kind: 'plugin', module: 'billing', point: 'checkout', pluginModule: 'my.plugin$', node: 'host a' } as const;
    expect(parseFlagKey(flagKey(ref))).toEqual(ref);
    expect(parseFlagKey(flagKey({ kind: 'point', module: 'billing', point: 'checkout' }))).toEqual({ kind: 'point', module: 'billing', point: 'checkout' });
    expect(() => parseFlagKey('plugin.billing.checkout')).toThrow(/has 2 names after "plugin\.", not 4/);
    expect(() => parseFlagKey('point.billing.check-out')).toThrow(/not a point name/);
    expect(() => parseFlagKey('other.billing.checkout')).toThrow(/neither/);
  });
});

describe('cluster-wide flags', () => {
  it('a flag set on host A applies to calls from host B, both ways, for plugins and points', async () => {
    await noUnhandledRejections(async () => {
      const a = await start(host(server, 'both'));
      const b = await start(host(server, 'both'));
      expect(await ran(b)).toEqual(['anat', 'tax']);

      expect(a.disablePlugin('anat', 'billing', 'checkout')).toBe('applied');
      expect(await ran(a)).toEqual(['tax']); // the local apply is immediate
      await a.flagsSettled();
      await until('B skips anat', async () => (await ran(b)).join() === 'tax');

      expect(b.disablePoint('billing', 'checkout')).toBe('applied');
      await b.flagsSettled();
      await until('A sees the point disabled', async () => (await ran(a)).length === 0);
      b.enablePoint('billing', 'checkout');
      b.enablePlugin('anat', 'billing', 'checkout');
      await b.flagsSettled();
      await until('A runs both again', async () => (await ran(a)).join() === 'anat,tax');
      expect(await ran(b)).toEqual(['anat', 'tax']);
      const kv = await bucket('both');
      const entry = await kv.get(flagKey({ kind: 'plugin', module: 'billing', point: 'checkout', pluginModule: 'anat', node: 'local' }));
      expect(entry?.json()).toMatchObject({ enabled: true, by: 'local' });
    });
  });

  it('a host toggling fast ends on its own last value, never flipped back by its own echoes', async () => {
    const a = await start(host(server, 'solo'));
    for (let i = 0; i < 51; i++) {
      if (i % 2 === 0) a.disablePlugin('tax', 'billing', 'checkout');
      else a.enablePlugin('tax', 'billing', 'checkout');
      if (i % 10 === 0) await sleep(1); // let some writes and their echoes through mid-storm
    }
    await a.flagsSettled();
    await sleep(200); // late echoes, if any were applied, would flip it now
    expect(await ran(a)).toEqual(['anat']);
    const entry = await (await bucket('solo')).get('plugin.billing.checkout.tax.local');
    expect(entry?.json()).toMatchObject({ enabled: false });
  });

  it('two hosts toggling one flag at once converge on the last value in the bucket', async () => {
    const a = await start(host(server, 'storm'));
    const b = await start(host(server, 'storm'));
    for (let i = 0; i < 50; i++) {
      if (i % 2 === 0) a.disablePlugin('tax', 'billing', 'checkout');
      else a.enablePlugin('tax', 'billing', 'checkout');
      if (i % 3 === 0) b.enablePlugin('tax', 'billing', 'checkout');
      else b.disablePlugin('tax', 'billing', 'checkout');
      if (i % 10 === 0) await sleep(1);
    }
    await Promise.all([a.flagsSettled(), b.flagsSettled()]);
    const entry = await (await bucket('storm')).get('plugin.billing.checkout.tax.local');
    const expected = entry?.json<{ enabled: boolean }>().enabled ? 'anat,tax' : 'anat';
    await until('both hosts agree with the bucket', async () => (await ran(a)).join() === expected && (await ran(b)).join() === expected);
    await sleep(200);
    expect((await ran(a)).join()).toBe(expected);
    expect((await ran(b)).join()).toBe(expected);
  });

  it('replicates pending flags: a plugin disabled before any host has it never runs when it registers', async () => {
    const a = await start(host(server, 'pending'));
    const b = await start(host(server, 'pending'));
    expect(a.disablePlugin('later', 'billing', 'checkout')).toBe('pending');
    expect(a.disablePoint('shipping', 'quote')).toBe('pending');
    await a.flagsSettled();
    await until('B lists both pending flags', () => b.report().status.pendingFlags.length === 2);
    expect(b.report().status.pendingFlags).toEqual([
      { kind: 'plugin', fn: 'billing_checkout_Plugin', module: 'later', node: 'local', enabled: false },
      { kind: 'point', fn: 'shipping_quote_Extension', module: 'shipping', node: 'local', enabled: false },
    ]);
    let runs = 0;
    b.registerModule('later', { billing_checkout_Plugin: () => ++runs, shipping_quote_Plugin: () => ++runs });
    expect(await ran(b)).toEqual(['anat', 'tax']);
    expect(await ran(b, 'shipping', 'quote')).toEqual([]);
    expect(runs).toBe(0);
  });

  it('gets its flags back from the bucket on start: a third host starting later never runs a disabled plugin', async () => {
    const a = await start(host(server, 'late'));
    a.disablePlugin('anat', 'billing', 'checkout');
    await a.flagsSettled();
    let anatRuns = 0;
    const c = createExtension({ scanLoaded: false, cluster: { servers: server.url, name: 'late' } });
    c.registerModule('anat', { billing_checkout_Plugin: () => ++anatRuns });
    await start(c);
    expect(await ran(c)).toEqual([]);
    expect(anatRuns).toBe(0);
  });

  it('keeps cluster names apart', async () => {
    const a = await start(host(server, 'apart1'));
    const b = await start(host(server, 'apart2'));
    a.disablePlugin('anat', 'billing', 'checkout');
    await a.flagsSettled();
    const other = await start(host(server, 'apart1'));
    expect(await ran(other)).toEqual(['tax']); // the same cluster has it (read on start) ...
    expect(await ran(b)).toEqual(['anat', 'tax']); // ... another cluster does not
  });

  it('ignores and records garbage in the bucket, and still applies good entries after it', async () => {
    await noUnhandledRejections(async () => {
      const a = await start(host(server, 'garbage'));
      const kv = await bucket('garbage');
      const good = 'plugin.billing.checkout.anat.local';
      const bad: Array<[string, string]> = [
        ['nonsense', '{"enabled":false}'],
        ['plugin.billing.checkout', '{"enabled":false}'],
        ['point.billing.check-out', '{"enabled":false}'],
        ['point.=ZZ.checkout', '{"enabled":false}'],
        ['plugin.billing.checkout.an=61t.local', '{"enabled":false}'],
        [good, 'not json'],
        [good, '{"enabled":"no"}'],
        [good, '[false]'],
        [good, 'null'],
        [good, JSON.stringify({ enabled: false, pad: 'x'.repeat(2000) })],
      ];
      const errorsBefore = a.report().status.loadErrors.length;
      for (const [key, value] of bad) await kv.put(key, value);
      await until('every bad entry is recorded', () => a.report().status.loadErrors.length - errorsBefore === bad.length);
      const errors = a.report().status.loadErrors.slice(errorsBefore);
      expect(errors.every((e) => e.file === `nats-kv:${flagBucket('garbage')}` && /ignored an entry of the cluster's flag bucket/.test(e.message))).toBe(true);
      expect(errors.map((e) => e.message).join('\n')).toMatch(/not JSON[\s\S]*not an object[\s\S]*more than a flag's 1024/);
      expect(await ran(a)).toEqual(['anat', 'tax']); // nothing was applied
      expect(a.report().status.pendingFlags).toEqual([]);
      await kv.put(good, '{"enabled":false}'); // a good value from another client still applies
      await until('the good entry applies', async () => (await ran(a)).join() === 'tax');
      await kv.delete(good); // a deleted key is the flag's default again: enabled
      await until('the delete enables', async () => (await ran(a)).join() === 'anat,tax');
    });
  });

  it('stop() and start() again: detached meanwhile, attached again with the bucket winning', async () => {
    const a = await start(host(server, 'cycle'));
    const b = await start(host(server, 'cycle'));
    a.disablePlugin('tax', 'billing', 'checkout');
    await a.flagsSettled();
    await a.stop();
    a.disablePlugin('anat', 'billing', 'checkout'); // while stopped: local only, not written
    await a.flagsSettled(); // resolves at once: nothing to write while detached
    b.enablePlugin('tax', 'billing', 'checkout');
    await b.flagsSettled();
    await a.start();
    expect(await ran(a)).toEqual(['tax']); // the bucket's tax (enabled by B); anat stays as set locally
    expect(await ran(b)).toEqual(['anat', 'tax']);
    a.disablePoint('billing', 'checkout'); // written again after the new start
    await a.flagsSettled();
    await until('B sees the point disabled', async () => (await ran(b)).length === 0);
  });

  it('keeps watching when a loadError listener throws', async () => {
    const a = await start(host(server, 'listener'));
    a.on('loadError', () => {
      throw new Error('a careless listener');
    });
    const kv = await bucket('listener');
    await kv.put('garbage', 'x');
    await kv.put('point.billing.checkout', '{"enabled":false}');
    await until('the good entry applies after the bad one', async () => (await ran(a)).length === 0);
  });

  it('a stateFile and a cluster together: the bucket wins for the flags it has', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-kv-state-'));
    folders.push(dir);
    const file = join(dir, 'state.json');
    const first = host(server, 'withfile', { stateFile: file });
    await first.start();
    first.disablePlugin('anat', 'billing', 'checkout');
    first.disablePlugin('tax', 'billing', 'checkout');
    await first.flagsSettled();
    await first.stop();
    // Another host enables anat in the bucket while the first is down; tax is disabled in both.
    const other = await start(host(server, 'withfile'));
    other.enablePlugin('anat', 'billing', 'checkout');
    await other.flagsSettled();
    const again = host(server, 'withfile', { stateFile: file });
    await start(again);
    expect(await ran(again)).toEqual(['anat']);
    // A flag applied from another host is written to this host's state file too.
    other.disablePlugin('anat', 'billing', 'checkout');
    await other.flagsSettled();
    await until('the file has anat disabled', () => {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { plugins: Array<{ pluginModule: string; enabled: boolean }> };
      return saved.plugins.find((p) => p.pluginModule === 'anat')?.enabled === false;
    });
    expect(await ran(again)).toEqual([]);
  });

  it('keeps local flags while the server is down and writes them when it returns', async () => {
    await noUnhandledRejections(async () => {
      const a = await start(host(server, 'down'));
      const b = await start(host(server, 'down'));
      await server.kill();
      expect(a.disablePlugin('tax', 'billing', 'checkout')).toBe('applied');
      expect(a.disablePoint('shipping', 'quote')).toBe('pending');
      expect(await ran(a)).toEqual(['anat']); // applies locally at once
      let settled = false;
      void a.flagsSettled().then(() => (settled = true));
      // The write fails (no server to answer it): recorded once as a load error, never thrown.
      await until('A records the failed write', () =>
        a.report().status.loadErrors.some((e) => /could not write the flag of plugin tax on billing\/checkout .*written when the NATS server answers again/.test(e.message)),
      );
      expect(settled).toBe(false); // nothing could be written yet
      await server.start();
      await until('A wrote its flags', () => settled);
      await until('B gets them', async () => (await ran(b)).join() === 'anat' && b.report().status.pendingFlags.length === 1);
      // A host started after the outage reads them from the bucket.
      const c = await start(host(server, 'down'));
      expect(await ran(c)).toEqual(['anat']);
      // And the watch of A still works after the restart: a change from B reaches it.
      b.enablePlugin('tax', 'billing', 'checkout');
      await b.flagsSettled();
      await until('A sees B', async () => (await ran(a)).join() === 'anat,tax');
    });
  }, 30_000);
});

describe('cluster option', () => {
  it('is checked when the extension is made', () => {
    expect(() => createExtension({ cluster: { servers: 'http://x' } })).toThrow(/cluster\.servers/);
    expect(() => createExtension({ cluster: { servers: 'nats://127.0.0.1:1', nmae: 'x' } as never })).toThrow(/nmae/);
  });

  it('a server with token auth refuses a host without the token; with it, flags replicate', async () => {
    const secure = await startNatsServer({ token: 's3cret' });
    try {
      const none = createExtension({ scanLoaded: false, cluster: { servers: secure.url } });
      await expect(none.start()).rejects.toThrow(/credentials/);
      const wrong = createExtension({ scanLoaded: false, cluster: { servers: secure.url, token: 'nope' } });
      await expect(wrong.start()).rejects.toThrow(/credentials/);
      const a = createExtension({ scanLoaded: false, cluster: { servers: secure.url, token: 's3cret' } });
      const b = createExtension({ scanLoaded: false, cluster: { servers: secure.url, token: 's3cret' } });
      await a.start();
      await b.start();
      a.disablePoint('billing', 'checkout');
      await a.flagsSettled();
      await until('B has the flag', () => b.report().status.pendingFlags.length === 1);
      await a.stop();
      await b.stop();
    } finally {
      await secure.stop();
    }
  });
});

describe('a NATS server without JetStream', () => {
  it('starts the host with flags local only, and says so in a load error', async () => {
    const port = await freePort();
    const plain = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const exited = new Promise((done) => plain.once('exit', done));
    try {
      const url = `nats://127.0.0.1:${port}`;
      await until('the plain server accepts', async () => {
        try {
          await (await connect({ servers: url })).close();
          return true;
        } catch {
          return false;
        }
      });
      const a = createExtension({ scanLoaded: false, cluster: { servers: url } });
      a.registerModule('anat', { billing_checkout_Plugin: () => 'anat' });
      await a.start();
      expect(a.report().status.loadErrors.map((e) => e.message).join('\n')).toMatch(/cluster-wide flags are off: the NATS server has no JetStream.*-js/);
      expect(a.disablePlugin('anat', 'billing', 'checkout')).toBe('applied');
      await a.flagsSettled(); // nothing to wait for
      expect(await ran(a)).toEqual([]);
      await a.stop();
    } finally {
      plain.kill('SIGKILL');
      await exited;
    }
  });
});

describe('cluster flags across host processes (built dist/)', () => {
  it('a host process killed with SIGKILL after a flag change, started again, never runs the disabled plugin once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ep-kv-e2e-'));
    folders.push(dir);
    const runs = join(dir, 'runs.txt');
    writeFileSync(runs, '');
    // A host that counts its plugin's runs in a file and calls the point once; with "disable" it first
    // disables the plugin, waits until the flag is in the bucket, and then serves until killed.
    writeFileSync(
      join(dir, 'host.mjs'),
      `import { createExtension } from ${JSON.stringify(INDEX)};
import { appendFileSync } from 'node:fs';
const [servers, action] = process.argv.slice(2);
const ext = createExtension({ scanLoaded: false, cluster: { servers, name: 'e2e' } });
ext.registerModule('anat', { billing_checkout_Plugin: () => (appendFileSync(${JSON.stringify(runs)}, 'x'), 'anat') });
ext.registerModule('tax', { billing_checkout_Plugin: () => 'tax' });
await ext.start();
if (action === 'disable') ext.disablePlugin('anat', 'billing', 'checkout');
await ext.flagsSettled();
const results = await ext.callPlugins('billing', 'checkout', {});
console.log(results.map((r) => r.info.module).join(','));
if (action === 'disable') setInterval(() => {}, 1000);
else await ext.stop();
`,
    );
    const first = spawn(process.execPath, [join(dir, 'host.mjs'), server.url, 'disable'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    first.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise((done) => first.once('exit', (code, signal) => done(signal)));
    try {
      await until('the first host has set the flag', () => out === 'tax\n');
    } finally {
      first.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const second = await runNode([join(dir, 'host.mjs'), server.url, 'none']);
    expect(second).toMatchObject({ code: 0, stdout: 'tax\n', stderr: '' });
    // Host B in this process sees the flag the killed process set.
    const b = await start(host(server, 'e2e'));
    expect(await ran(b)).toEqual(['tax']);
    expect(readFileSync(runs, 'utf8')).toBe(''); // anat never ran, in either process
  }, 30_000);
});
