/**
 * Durable operator state: flags, counters and history in a state file that survives stop/start, SIGKILL
 * and storms of flag changes; bad files, loose permissions and two processes on one file are refused.
 * The crash cases run real host processes (the built dist/) and kill them with SIGKILL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, type Extension } from '../src/index.js';

const INDEX = pathToFileURL(resolve('dist/index.js')).href;
const CLI = resolve('dist/cli.js');
let root: string;
let n = 0;
const fresh = () => join(root, `state-${++n}.json`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ep-state-'));
  // A host process: registers a point with plugins p0..p4 (p0 appends to RAN when it runs), starts on
  // the state file, then does what its mode says.
  writeFileSync(
    join(root, 'host.mjs'),
    `import { createExtension } from ${JSON.stringify(INDEX)};
import { appendFileSync } from 'node:fs';
const [file, mode, ran] = process.argv.slice(2);
const ext = createExtension({ scanLoaded: false, stateFile: file, stateFlushMs: 20 });
ext.registerModule('billing', { billing_checkout_Extension() {} });
ext.registerModule('p0', { billing_checkout_Plugin: (x) => { if (ran) appendFileSync(ran, 'p0 ran\\n'); return x; } });
for (let i = 1; i < 5; i++) ext.registerModule('p' + i, { billing_checkout_Plugin: (x) => x });
try {
  await ext.start();
} catch (err) {
  console.log('STARTFAIL ' + err.code + ' ' + err.message);
  process.exit(3);
}
const rows = ext.report().plugins;
console.log('LOADED ' + JSON.stringify(Object.fromEntries(rows.map((p) => [p.module, { enabled: p.enabled, ok: p.ok }]))));
if (mode === 'disable') {
  ext.disablePlugin('p0', 'billing', 'checkout');
  console.log('DISABLED');
  setInterval(() => {}, 1000);
} else if (mode === 'call') {
  console.log('RESULTS ' + ext.callPluginsSync('billing', 'checkout', 1).map((r) => r.info.module).join(','));
  await ext.stop('done');
} else if (mode === 'hold') {
  console.log('HOLDING');
  setInterval(() => {}, 1000);
} else if (mode === 'storm') {
  for (let i = 0; ; i++) {
    const m = 'p' + Math.floor(Math.random() * 5);
    const on = Math.random() < 0.5;
    console.log('P ' + i + ' ' + m + ' ' + on);
    if (on) ext.enablePlugin(m, 'billing', 'checkout');
    else ext.disablePlugin(m, 'billing', 'checkout');
    console.log('F ' + i + ' ' + m + ' ' + on);
    for (let k = 0; k < 20; k++) ext.callPluginsSync('billing', 'checkout', k);
    if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
  }
}
`,
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A host process whose stdout lines can be awaited. */
function host(file: string, mode: string, ran = '') {
  const child = spawn(process.execPath, [join(root, 'host.mjs'), file, mode, ran], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const until = (prefix: string) =>
    new Promise<string>((resolveLine, reject) => {
      const seen = lines.find((l) => l.startsWith(prefix) || l.startsWith('STARTFAIL'));
      if (seen !== undefined) return seen.startsWith('STARTFAIL') && prefix !== 'STARTFAIL' ? reject(new Error(seen)) : resolveLine(seen);
      waiters.push({ test: (l) => l.startsWith(prefix) || l.startsWith('STARTFAIL'), resolve: (l) => (l.startsWith('STARTFAIL') && prefix !== 'STARTFAIL' ? reject(new Error(l)) : resolveLine(l)) });
      closed.then(() => reject(new Error(`host ended before "${prefix}"; output: ${lines.join(' | ')}`)));
    });
  const kill = async () => {
    child.kill('SIGKILL');
    await closed;
  };
  return { child: child as ChildProcess, lines, until, kill, closed };
}

const make = (file: string, extra: object = {}): Extension =>
  createExtension({ scanLoaded: false, stateFile: file, stateFlushMs: 20, ...extra });
const withPoint = (ext: Extension) => {
  ext.registerModule('billing', { billing_checkout_Extension() {} });
  ext.registerModule('anat', { billing_checkout_Plugin: (x: unknown) => x });
  ext.registerModule('bad', {
    billing_checkout_Plugin: () => {
      throw new Error('boom');
    },
  });
  return ext;
};

describe('state across stop and start', () => {
  it('keeps flags (pending ones too), counters, exits and the start/terminate history', async () => {
    const file = fresh();
    const a = withPoint(make(file));
    await a.start();
    a.disablePlugin('anat', 'billing', 'checkout');
    a.disablePlugin('ghost', 'billing', 'checkout'); // a plugin not registered now
    a.disablePoint('other', 'point');
    a.callPluginsSync('billing', 'checkout', 1);
    a.callPluginsSync('billing', 'checkout', 2);
    await a.stop('maintenance');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const b = withPoint(make(file));
    b.registerModule('ghost', { billing_checkout_Plugin: (x: unknown) => x });
    await b.start();
    const results = b.callPluginsSync('billing', 'checkout', 3);
    expect(results.map((r) => r.info.module)).toEqual(['bad']);
    const r = b.report();
    const row = (m: string) => r.plugins.find((p) => p.module === m)!;
    expect(row('anat').enabled).toBe(false);
    expect(row('ghost').enabled).toBe(false);
    expect(row('bad').exit).toBe(3);
    expect(r.status.exitReasons.filter((e) => e.module === 'bad').map((e) => e.n)).toEqual([1, 2, 3]);
    expect(r.points.find((p) => p.module === 'billing')!.exit).toBe(3);
    expect(r.status.startCount).toBe(2);
    expect(r.status.terminateReasons.map((t) => t.reason)).toEqual(['maintenance']);
    await b.stop('done');
    const c = make(file);
    c.registerModule('other', { other_point_Extension() {}, other_point_Plugin: () => 1 });
    await c.start();
    expect(c.callPluginsSync('other', 'point', 1)).toEqual([]);
    expect(c.report().status.startCount).toBe(3);
    await c.stop();
  });

  it('puts a flag on disk before the flag call returns', async () => {
    const file = fresh();
    const ext = withPoint(make(file, { stateFlushMs: 600_000 }));
    await ext.start();
    ext.disablePlugin('bad', 'billing', 'checkout');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.plugins.find((p: { pluginModule: string }) => p.pluginModule === 'bad').enabled).toBe(false);
    await ext.stop();
  });

  it('refuses bad options with what to do', () => {
    expect(() => createExtension({ stateFile: '' })).toThrow(/stateFile must be a file path/);
    expect(() => createExtension({ stateFile: fresh(), stateFlushMs: 0 })).toThrow(/stateFlushMs must be a number of milliseconds from 10/);
    expect(() => createExtension({ onCorruptState: 'backup' })).toThrow(/need a stateFile/);
    expect(() => createExtension({ stateFile: fresh(), onCorruptState: 'delete' as 'backup' })).toThrow(/'reject' or 'backup'/);
  });
});

describe('files that cannot be used', () => {
  const good = { version: 1, node: 'local', pid: 1, savedAt: new Date().toISOString(), cleanStop: true, startCount: 1, startTime: null, terminateCount: 0, terminateReasons: [], loadErrors: [], points: [], plugins: [], nodeRestarts: {} };
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"version": 1, "node":', /not valid JSON/],
    ['empty', '', /empty/],
    ['a newer version', JSON.stringify({ ...good, version: 2 }), /format version 2, newer than version 1/],
    ['a bad field', JSON.stringify({ ...good, plugins: [{ pluginModule: 'a', module: 'b', point: 'c', node: 'local', enabled: 'no', ok: 0, exit: 0, exits: [] }] }), /plugins\[0\]\.enabled should be true or false/],
    ['a negative counter', JSON.stringify({ ...good, startCount: -1 }), /startCount should be a whole number/],
    ['a bad name', JSON.stringify({ ...good, points: [{ module: 'a b', point: 'c', enabled: false }] }), /row 0 names an invalid module/],
  ];
  for (const [what, text, why] of cases) {
    it(`rejects start for ${what}, naming the file, and overwrites nothing`, async () => {
      const file = fresh();
      writeFileSync(file, text, { mode: 0o600 });
      const ext = make(file);
      const err = await ext.start().then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('ESTATECORRUPT');
      expect(err?.message).toContain(file);
      expect(err?.message).toMatch(why);
      expect(err?.message).toMatch(/onCorruptState: 'backup'/);
      expect(readFileSync(file, 'utf8')).toBe(text);
      expect(existsSync(`${file}.lock`)).toBe(false);
    });
  }

  it("with onCorruptState: 'backup' moves a bad file aside, records it, and starts fresh", async () => {
    const file = fresh();
    writeFileSync(file, '{"version": 1, "trunc', { mode: 0o600 });
    const ext = make(file, { onCorruptState: 'backup' });
    await ext.start();
    const aside = readdirSync(root).filter((f) => f.startsWith(`${file.split('/').pop()}.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(root, aside[0]!), 'utf8')).toBe('{"version": 1, "trunc');
    const errors = ext.report().status.loadErrors;
    expect(errors.some((e) => /not valid JSON.*moved aside to/.test(e.message))).toBe(true);
    expect(ext.report().status.startCount).toBe(1);
    await ext.stop();
    expect(JSON.parse(readFileSync(file, 'utf8')).cleanStop).toBe(true);
  });

  it('refuses a world-writable state file and one owned by another user', async () => {
    const file = fresh();
    const first = make(file);
    await first.start();
    await first.stop();
    chmodSync(file, 0o666);
    const loose = await make(file).start().then(() => null, (e: Error & { code?: string }) => e);
    expect(loose?.code).toBe('ESTATEPERM');
    expect(loose?.message).toMatch(/world-writable.*chmod o-w/);
    chmodSync(file, 0o600);
    if (process.getuid?.() === 0) {
      chownSync(file, 65534, 65534);
      const foreign = await make(file).start().then(() => null, (e: Error & { code?: string }) => e);
      expect(foreign?.code).toBe('ESTATEPERM');
      expect(foreign?.message).toMatch(/owned by uid 65534/);
    }
  });
});

describe('processes', () => {
  it('a second process on one file is refused with the pid that holds it; a dead holder is taken over', async () => {
    const file = fresh();
    const holder = host(file, 'hold');
    await holder.until('HOLDING');
    const other = make(file);
    const err = await other.start().then(() => null, (e: Error & { code?: string }) => e);
    expect(err?.code).toBe('ESTATELOCKED');
    expect(err?.message).toContain(`process ${holder.child.pid}`);
    await holder.kill();
    // The lock is left behind by the killed process; the next start takes it over.
    expect(readFileSync(`${file}.lock`, 'utf8').trim()).toBe(String(holder.child.pid));
    const next = make(file);
    await next.start();
    expect(next.report().status.terminateReasons.at(-1)?.reason).toMatch(/no clean stop recorded: process \d+/);
    await next.stop();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('disable, SIGKILL, start again: still disabled, and the plugin never ran in between', async () => {
    const file = fresh();
    const ran = join(root, `ran-${n}.log`);
    const first = host(file, 'disable');
    await first.until('DISABLED');
    await first.kill();
    const second = host(file, 'call', ran);
    const results = await second.until('RESULTS');
    expect(await second.closed).toBe(0);
    expect(results).toBe('RESULTS p1,p2,p3,p4');
    expect(existsSync(ran)).toBe(false);
  });

  it('200 SIGKILLs during a storm of flag changes and calls: the file always loads, no returned flag change is lost, counters never go back', async () => {
    const file = fresh();
    const flags = new Map<string, boolean>();
    let okBefore: Record<string, number> = {};
    let lastUncertain: { module: string; on: boolean } | null = null;
    let changesSeen = 0;
    for (let round = 0; round < 200; round++) {
      const h = host(file, 'storm');
      const loaded = JSON.parse((await h.until('LOADED')).slice('LOADED '.length)) as Record<string, { enabled: boolean; ok: number }>;
      // The flags on disk are those whose change returned; a change begun but not seen returning may be either way.
      const uncertain: { module: string; on: boolean } | null = lastUncertain;
      for (const [m, expected] of flags) {
        const got = loaded[m]!.enabled;
        if (uncertain !== null && uncertain.module === m) expect([expected, uncertain.on]).toContain(got);
        else expect({ round, module: m, enabled: got }).toEqual({ round, module: m, enabled: expected });
      }
      for (const [m, row] of Object.entries(loaded)) {
        expect(row.ok).toBeGreaterThanOrEqual(okBefore[m] ?? 0);
        flags.set(m, row.enabled);
      }
      okBefore = Object.fromEntries(Object.entries(loaded).map(([m, r]) => [m, r.ok]));
      // Each round kills the host after at least one flag change returned, at a random point after that,
      // so the storm storms however slow the machine is.
      await h.until('F ');
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      await h.kill();
      // Read everything the host wrote before it died.
      lastUncertain = null;
      for (const line of h.lines) {
        const [kind, , m, on] = line.split(' ');
        if (kind === 'P') lastUncertain = { module: m!, on: on === 'true' };
        if (kind === 'F') {
          changesSeen++;
          flags.set(m!, on === 'true');
          lastUncertain = null;
        }
      }
    }
    // The storm did storm: at least one flag change returned in every round before its kill.
    expect(changesSeen).toBeGreaterThanOrEqual(200);
  }, 480_000);
});

describe('extpoint state FILE', () => {
  it('prints a state file as the report, or as its JSON document', async () => {
    const file = fresh();
    const ext = withPoint(make(file));
    await ext.start();
    ext.disablePlugin('anat', 'billing', 'checkout');
    ext.callPluginsSync('billing', 'checkout', 1);
    await ext.stop('for the record');
    const text = spawnSync(process.execPath, [CLI, 'state', file], { encoding: 'utf8' });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/billing_checkout_Plugin\s+anat\s+local\s+disable/);
    expect(text.stdout).toMatch(/billing_checkout_Plugin\s+bad\s+local\s+enable\s+0\s+1/);
    expect(text.stdout).toMatch(/for the record/);
    const json = spawnSync(process.execPath, [CLI, 'state', file, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(json.stdout).plugins).toHaveLength(2);
    const missing = spawnSync(process.execPath, [CLI, 'state', join(root, 'nope.json')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
  });
});
