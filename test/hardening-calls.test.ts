/**
 * Hardening of the call paths (issue 16, items 3, 6, 7, 8; issue 17, item 14): whatever a plugin returns,
 * throws or does to its own point ends as that plugin's result, counted exactly, and never as a rejected
 * call, an unhandled rejection, a starved event loop or a dead host. Cases that could hang or kill the
 * host run in child processes against the built package, killed by pid if they outlive their budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createExtension, halt, type Extension, type PluginResult } from '../src/index.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

const make = (): Extension => createExtension({ scanLoaded: false });

// ---------------------------------------------------------------------------------------------------
// Child processes for what could starve or kill the host

const DIST = pathToFileURL(resolve('dist/index.js')).href;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ep-hard-calls-'));
});
/** Children still running: killed by pid when the file ends, even if a test timed out first. */
const running = new Set<number>();
afterAll(async () => {
  for (const pid of running) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

interface ChildRun {
  code: number | null;
  killed: boolean;
  out: unknown;
  stderr: string;
}

let scripts = 0;
/**
 * Runs `body` (an ES module body with `ext`, `createExtension` and `halt` in scope, which sets `out`) in
 * a new Node process; the process prints `out` as JSON when body finishes. A process still running after
 * `budgetMs` is killed (by its pid) and reported as `killed`.
 */
async function inChild(body: string, budgetMs = 10_000): Promise<ChildRun> {
  const file = join(dir, `case${++scripts}.mjs`);
  await writeFile(
    file,
    `import { createExtension, halt } from ${JSON.stringify(DIST)};\n` +
      `const ext = createExtension({ scanLoaded: false });\n` +
      `let out;\n` +
      `process.on('unhandledRejection', (r) => { console.error('UNHANDLED', r); process.exitCode = 3; });\n` +
      `${body}\n` +
      `process.stdout.write(JSON.stringify(out === undefined ? null : out));\n`,
  );
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    }, budgetMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      let out: unknown = stdout;
      try {
        out = JSON.parse(stdout);
      } catch {
        // not JSON: keep the raw text for the assertion message
      }
      done({ code, killed, out, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Issue 16, item 3

describe('pipe: private keys', () => {
  it('are merged when a step returns the very object it was given', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: (s: { n: number }) => s });
    const input = { n: 1 };
    expect(await ext.pipe('h', 'p', input, { private: { secret: 'x' } })).toEqual({ n: 1, secret: 'x' });
  });

  it('are merged the same way whether a step returns its input, a copy, or halts with its input', async () => {
    const same = make();
    same.registerModule('a', { h_p_Plugin: (s: object) => s });
    const copy = make();
    copy.registerModule('a', { h_p_Plugin: (s: object) => ({ ...s }) });
    const halted = make();
    halted.registerModule('a', { h_p_Plugin: (s: object) => halt(s) });
    const asyncSame = make();
    asyncSame.registerModule('a', { h_p_Plugin: async (s: object) => s });
    const opts = { private: { k: 1 } };
    const outs = await Promise.all([same, copy, halted, asyncSame].map((ext) => ext.pipe('h', 'p', { v: 2 }, opts)));
    for (const out of outs) expect(out).toEqual({ v: 2, k: 1 });
  });

  it('leave the caller\'s input object untouched', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: (s: object) => s });
    const input = { v: 1 };
    await ext.pipe('h', 'p', input, { private: { k: 1 } });
    expect(input).toEqual({ v: 1 });
  });

  it('fail the last step, and give the input back, when its result cannot be copied', async () => {
    await noUnhandledRejections(async () => {
      const ext = make();
      const noKeys = new Proxy({}, { ownKeys: () => { throw new Error('no keys'); } });
      ext.registerModule('a', { h_p_Plugin: (s: object) => s });
      ext.registerModule('b', { h_p_Plugin: () => noKeys });
      const input = { v: 1 };
      expect(await ext.pipe('h', 'p', input, { private: { k: 1 } })).toBe(input);
      ext.registerModule('b', { h_p_Plugin: async () => noKeys });
      expect(await ext.pipe('h', 'p', input, { private: { k: 1 } })).toBe(input);
      expect(counts(ext)).toEqual({ a: [2, 0], b: [0, 2] });
    });
  });

  it('are still not merged when a step fails and the input comes back, nor with returnInput', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: () => { throw new Error('no'); } });
    const input = { v: 1 };
    expect(await ext.pipe('h', 'p', input, { private: { k: 1 } })).toBe(input);
    const ok = make();
    ok.registerModule('a', { h_p_Plugin: (s: object) => s });
    expect(await ok.pipe('h', 'p', input, { private: { k: 1 }, returnInput: true })).toBe(input);
  });
});

// ---------------------------------------------------------------------------------------------------
// Issue 16, item 6

/** Values a hostile plugin returns, each built fresh. */
const hostiles: Record<string, () => unknown> = {
  'a Proxy whose every trap throws': () =>
    new Proxy(
      {},
      new Proxy({}, { get: (_t, trap) => () => { throw new Error(`trap ${String(trap)} exploded`); } }),
    ),
  'an object whose then getter throws': () => ({
    get then(): never {
      throw new Error('then getter exploded');
    },
  }),
  'a revoked Proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  'a thenable that throws when called': () => ({
    then(): never {
      throw new Error('then exploded');
    },
  }),
  'a function whose then getter throws': () =>
    Object.defineProperty(() => 1, 'then', {
      get(): never {
        throw new Error('function then exploded');
      },
    }),
};

/** Registers `good1` (sync), `hostile`, `good2` (async, unless `allSync`), and optionally an async one before. */
function hostileSetup(make_: () => unknown, asyncBefore: boolean): Extension {
  const ext = make();
  if (asyncBefore) ext.registerModule('a0', { h_p_Plugin: async (x: unknown) => x });
  ext.registerModule('a1', { h_p_Plugin: (x: unknown) => x });
  ext.registerModule('a2', { h_p_Plugin: make_ });
  ext.registerModule('a3', { h_p_Plugin: async (x: unknown) => x });
  return ext;
}

function counts(ext: Extension): Record<string, [number, number]> {
  return Object.fromEntries(ext.report().plugins.map((p) => [p.module, [p.ok, p.exit]]));
}

describe('hostile return values', () => {
  for (const [name, value] of Object.entries(hostiles)) {
    for (const asyncBefore of [false, true]) {
      for (const profiled of [false, true]) {
        const when = `${asyncBefore ? 'after an async plugin' : 'first'}${profiled ? ', profiled' : ''}`;
        it(`${name} (${when}) fails only that plugin in every kind of call`, async () => {
          await noUnhandledRejections(async () => {
            const ext = hostileSetup(value, asyncBefore);
            if (profiled) ext.profile('h', 'p', true);
            const states = (rs: PluginResult[]) => rs.map((r) => `${r.info.module}:${r.state}`);
            const expected = [...(asyncBefore ? ['a0:ok'] : []), 'a1:ok', 'a2:EXIT', 'a3:ok'];
            expect(states(await ext.callPlugins('h', 'p', 1))).toEqual(expected);
            expect(states(await ext.callPlugins('h', 'p', 1, { timeoutMs: 1000 }))).toEqual(expected);
            expect(states(await ext.callPlugins('h', 'p', 1, { parallel: true }))).toEqual(expected);
            expect(states(await ext.callPlugins('h', 'p', 1, { parallel: true, timeoutMs: 1000 }))).toEqual(expected);
            expect(await ext.pipe('h', 'p', 1)).toBe(1);
            expect(await ext.pipe('h', 'p', 1, { timeoutMs: 1000 })).toBe(1);
            const handle = ext.point('h', 'p');
            expect(states(await handle.call(1))).toEqual(expected);
            expect(await handle.pipe(1)).toBe(1);
            const c = counts(ext);
            expect(c['a2']).toEqual([0, 8]);
            expect(c['a1']).toEqual([8, 0]);
            // every pipe stops at a2, so a3 ran in the five calls only
            expect(c['a3']).toEqual([5, 0]);
          });
        });
      }
    }

    it(`${name} fails only that plugin in sync calls and notify`, async () => {
      await noUnhandledRejections(async () => {
        const ext = make();
        ext.registerModule('a1', { h_p_Plugin: (x: unknown) => x });
        ext.registerModule('a2', { h_p_Plugin: value });
        ext.registerModule('a3', { h_p_Plugin: (x: unknown) => x });
        expect(ext.callPluginsSync('h', 'p', 1).map((r) => r.state)).toEqual(['ok', 'EXIT', 'ok']);
        expect(() => ext.notify('h', 'p', 1)).not.toThrow();
        ext.profile('h', 'p', true);
        expect(ext.callPluginsSync('h', 'p', 1).map((r) => r.state)).toEqual(['ok', 'EXIT', 'ok']);
        expect(() => ext.notify('h', 'p', 1)).not.toThrow();
        await sleep(10);
        expect(counts(ext)).toEqual({ a1: [4, 0], a2: [0, 4], a3: [4, 0] });
      });
    });

    it(`${name} resolved by an async plugin is that plugin's EXIT`, async () => {
      await noUnhandledRejections(async () => {
        const ext = make();
        ext.registerModule('a1', { h_p_Plugin: async () => value() });
        ext.registerModule('a2', { h_p_Plugin: (x: unknown) => x });
        expect((await ext.callPlugins('h', 'p', 1)).map((r) => r.state)).toEqual(['EXIT', 'ok']);
        expect((await ext.callPlugins('h', 'p', 1, { timeoutMs: 500, parallel: true })).map((r) => r.state)).toEqual(['EXIT', 'ok']);
        expect(await ext.pipe('h', 'p', 1)).toBe(1);
        expect(counts(ext)).toEqual({ a1: [0, 3], a2: [2, 0] });
      });
    });

    it(`${name} from a health probe is that module's error, and health answers`, async () => {
      await noUnhandledRejections(async () => {
        const ext = make();
        ext.registerModule('sick', { h_p_Plugin: () => 1, health: value });
        ext.registerModule('asick', { h_p_Plugin: () => 1, health: async () => value() });
        ext.registerModule('fine', { h_p_Plugin: () => 1, health: () => 'ok' });
        const report = await ext.health('h', 'p', { timeoutMs: 500 });
        expect(report.healthy).toBe(false);
        expect(report.modules.map((m) => [m.module, m.status])).toEqual([
          ['asick', 'error'],
          ['fine', 'ok'],
          ['sick', 'error'],
        ]);
        for (const m of report.modules) if (m.status === 'error') expect(typeof m.reason).toBe('string');
      });
    });
  }

  it('a health probe that throws a hostile value is an error with a reason, not a rejected health()', async () => {
    await noUnhandledRejections(async () => {
      const ext = make();
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      ext.registerModule('sick', { h_p_Plugin: () => 1, health: () => { throw proxy; } });
      const report = await ext.health('h', 'p', { timeoutMs: 500 });
      expect(report.modules[0]).toMatchObject({ module: 'sick', status: 'error' });
      expect(typeof report.modules[0]!.reason).toBe('string');
    });
  });

  it('the EXIT reason is what reading the value threw', async () => {
    const ext = make();
    ext.registerModule('a', { h_p_Plugin: hostiles['an object whose then getter throws']! });
    const [r] = await ext.callPlugins('h', 'p');
    expect(r!.state).toBe('EXIT');
    expect((r!.data as Error).message).toBe('then getter exploded');
  });
});

// ---------------------------------------------------------------------------------------------------
// Issue 16, item 7 (in child processes: a starved event loop would starve the test runner too)

const SELF = `const self = () => ({ then(resolve) { resolve(this); } });`;
const CHAIN = `const chain = () => ({ then(resolve) { resolve(chain()); } });`;
const PAIR = `const pair = () => { const a = { then(r) { r(b); } }, b = { then(r) { r(a); } }; return a; };`;
const NEVER = `const never = () => ({ then() {} });`;

describe('thenables that never settle', () => {
  const kinds: Record<string, string> = {
    'a self-adopting thenable': 'self',
    'an endless chain of fresh thenables': 'chain',
    'two thenables adopting each other': 'pair',
  };
  for (const [name, fn] of Object.entries(kinds)) {
    it(`${name}: calls settle as that plugin's EXIT, timers run, the loop is not starved`, async () => {
      const run = await inChild(`
        ${SELF} ${CHAIN} ${PAIR}
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 1);
        ext.registerModule('bad', { h_p_Plugin: () => ${fn}() });
        ext.registerModule('good', { h_p_Plugin: (x) => x });
        const states = (rs) => rs.map((r) => r.info.module + ':' + r.state);
        const serial = await ext.callPlugins('h', 'p', 1);
        const timed = await ext.callPlugins('h', 'p', 1, { timeoutMs: 50 });
        const parallel = await ext.callPlugins('h', 'p', 1, { parallel: true, timeoutMs: 50 });
        const piped = await ext.pipe('h', 'p', 1, { timeoutMs: 50 });
        const pipedUntimed = await ext.pipe('h', 'p', 1);
        ext.notify('h', 'p', 1);
        const sync = ext.callPluginsSync('h', 'p', 1);
        await new Promise((r) => setTimeout(r, 30));
        clearInterval(ticker);
        const rep = ext.report();
        out = {
          serial: states(serial), timed: states(timed), parallel: states(parallel), piped, pipedUntimed,
          sync: states(sync), ticked: ticks > 0,
          counts: rep.plugins.map((p) => [p.module, p.ok, p.exit]),
          reason: rep.status.exitReasons.map((e) => e.reason && e.reason.name),
        };
      `);
      expect(run.killed, `the child was starved or hung: ${run.stderr}`).toBe(false);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.out).toMatchObject({
        serial: ['bad:EXIT', 'good:ok'],
        timed: ['bad:EXIT', 'good:ok'],
        parallel: ['bad:EXIT', 'good:ok'],
        piped: 1,
        pipedUntimed: 1,
        sync: ['bad:EXIT', 'good:ok'],
        ticked: true,
        // notify's good run counts ok; bad is an EXIT in all seven calls
        counts: [['bad', 0, 7], ['good', 5, 0]],
      });
    });
  }

  it('a thenable that never calls back times out with ETIMEOUT while timers keep running', async () => {
    const run = await inChild(`
      ${NEVER}
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      ext.registerModule('bad', { h_p_Plugin: () => never() });
      const [r] = await ext.callPlugins('h', 'p', 1, { timeoutMs: 40 });
      const piped = await ext.pipe('h', 'p', 7, { timeoutMs: 40 });
      clearInterval(ticker);
      out = { state: r.state, code: r.data.code, piped, ticked: ticks > 0 };
    `);
    expect(run.killed).toBe(false);
    expect(run.out).toEqual({ state: 'EXIT', code: 'ETIMEOUT', piped: 7, ticked: true });
  });

  it('a health probe returning a self-adopting thenable answers as an error within its timeout', async () => {
    const run = await inChild(`
      ${SELF} ${CHAIN}
      ext.registerModule('selfish', { h_p_Plugin: () => 1, health: () => self() });
      ext.registerModule('chained', { h_p_Plugin: () => 1, health: () => chain() });
      ext.registerModule('fine', { h_p_Plugin: () => 1, health: () => 'ok' });
      const report = await ext.health('h', 'p', { timeoutMs: 100 });
      out = report.modules.map((m) => [m.module, m.status]);
    `);
    expect(run.killed, run.stderr).toBe(false);
    expect(run.out).toEqual([['chained', 'error'], ['fine', 'ok'], ['selfish', 'error']]);
  });

  it('an async plugin before a self-adopting one does not change the outcome', async () => {
    const run = await inChild(`
      ${SELF}
      ext.registerModule('a', { h_p_Plugin: async (x) => x });
      ext.registerModule('bad', { h_p_Plugin: () => self() });
      ext.profile('h', 'p', true);
      const rs = await ext.callPlugins('h', 'p', 1);
      const piped = await ext.pipe('h', 'p', 1);
      out = { states: rs.map((r) => r.state), piped };
    `);
    expect(run.killed, run.stderr).toBe(false);
    expect(run.out).toEqual({ states: ['ok', 'EXIT'], piped: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------
// Issue 16, item 8 (in child processes: a stack overflow in the wrong place could end the host)

describe('a plugin that calls its own point', () => {
  const cases: Record<string, string> = {
    'sync, by name': `(n) => { calls++; return ext.callPluginsSync('h', 'p', n); }`,
    'sync, through a handle': `(n) => { calls++; return handle.callSync(n); }`,
    'sync, through notify': `(n) => { calls++; ext.notify('h', 'p', n); return n; }`,
    'async, by name': `async (n) => { calls++; return ext.callPlugins('h', 'p', n); }`,
    'async, through pipe': `async (n) => { calls++; return ext.pipe('h', 'p', n); }`,
    'sync, calling pipe': `(n) => { calls++; return ext.pipe('h', 'p', n); }`,
  };
  for (const [name, plugin] of Object.entries(cases)) {
    it(`${name}: that plugin ends as an EXIT with a RangeError, counters stay exact, the host lives`, async () => {
      const run = await inChild(`
        let calls = 0, others = 0;
        const handle = ext.point('h', 'p');
        ext.registerModule('loop', { h_p_Plugin: ${plugin} });
        ext.registerModule('other', { h_p_Plugin: (n) => { others++; return n; } });
        let threw = null;
        let top;
        try {
          top = ext.callPluginsSync('h', 'p', 1);
          await ext.callPlugins('h', 'p', 1);
          await ext.pipe('h', 'p', 1);
          ext.notify('h', 'p', 1);
        } catch (e) { threw = String(e); }
        await new Promise((r) => setTimeout(r, 50));
        const rep = ext.report();
        const row = (m) => rep.plugins.find((p) => p.module === m);
        out = {
          threw,
          calls, others,
          loop: [row('loop').ok, row('loop').exit],
          other: [row('other').ok, row('other').exit],
          rangeErrors: rep.status.exitReasons.filter((e) => e.module === 'loop' && e.reason instanceof RangeError).length,
          after: ext.callPluginsSync('x', 'y').length,
        };
      `);
      expect(run.killed, run.stderr).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      const out = run.out as {
        threw: string | null;
        calls: number;
        others: number;
        loop: [number, number];
        other: [number, number];
        rangeErrors: number;
      };
      expect(out.threw).toBeNull();
      expect(out.loop[0] + out.loop[1]).toBe(out.calls);
      expect(out.other[0] + out.other[1]).toBe(out.others);
      expect(out.loop[1]).toBeGreaterThan(0);
      expect(out.rangeErrors).toBeGreaterThan(0);
    });
  }
});

describe('a plugin that awaits, then calls its own point', () => {
  // No stack grows here: each level waits on the next in microtasks, which never let a timer run, until
  // the heap runs out. The number of calls waiting on async plugins is bounded instead.
  const cases: Record<string, string> = {
    'in series': `async (n) => { calls++; await null; return ext.callPlugins('h', 'p', n); }`,
    'in parallel': `async (n) => { calls++; await null; return ext.callPlugins('h', 'p', n, { parallel: true }); }`,
    'with a timeout': `async (n) => { calls++; await null; return ext.callPlugins('h', 'p', n, { timeoutMs: 60000 }); }`,
    'through pipe': `async (n) => { calls++; await null; return ext.pipe('h', 'p', n); }`,
  };
  for (const [name, plugin] of Object.entries(cases)) {
    it(`${name}: the chain is cut with a RangeError, counters stay exact, the host lives`, async () => {
      const run = await inChild(`
        let calls = 0;
        ext.registerModule('loop', { h_p_Plugin: ${plugin} });
        let threw = null;
        let top;
        try {
          top = await ext.callPlugins('h', 'p', 1);
        } catch (e) { threw = String(e); }
        const rep = ext.report();
        const row = rep.plugins.find((p) => p.module === 'loop');
        out = {
          threw, calls, top: top.map((r) => r.state),
          loop: [row.ok, row.exit],
          rangeErrors: rep.status.exitReasons.filter((e) => e.reason instanceof RangeError).length,
          after: (await ext.callPlugins('x', 'y')).length,
        };
      `, 25_000);
      expect(run.killed, run.stderr).toBe(false);
      expect(run.code, run.stderr).toBe(0);
      const out = run.out as { threw: string | null; calls: number; top: string[]; loop: [number, number]; rangeErrors: number };
      expect(out.threw).toBeNull();
      expect(out.top).toHaveLength(1);
      expect(out.loop[0] + out.loop[1]).toBe(out.calls);
      expect(out.loop[1]).toBeGreaterThan(0);
      expect(out.rangeErrors).toBeGreaterThan(0);
    });
  }

  it('many calls waiting at once without any recursion are all served', async () => {
    const ext = make();
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    ext.registerModule('a', { h_p_Plugin: async (n: number) => { await gate; return n; } });
    const calls = Array.from({ length: 2000 }, (_, i) => ext.callPlugins('h', 'p', i));
    const pipes = Array.from({ length: 500 }, (_, i) => ext.pipe('h', 'p', i));
    release();
    const results = await Promise.all(calls);
    expect(results.every((rs, i) => rs[0]!.state === 'ok' && rs[0]!.data === i)).toBe(true);
    expect(await Promise.all(pipes)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});

// ---------------------------------------------------------------------------------------------------
// Issue 17, item 14: what timeoutMs does to a sync plugin

/** Blocks the thread for `ms`: a sync plugin that overruns. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('timeoutMs and sync plugins', () => {
  it('a sync plugin past timeoutMs keeps its ok result, and counts as slow in the profile and health', async () => {
    const ext = make();
    ext.registerModule('hog', { h_p_Plugin: () => { block(30); return 'late'; } });
    ext.registerModule('quick', { h_p_Plugin: () => 'quick' });
    ext.profile('h', 'p', true);
    const rs = await ext.callPlugins('h', 'p', 1, { timeoutMs: 5 });
    expect(rs.map((r) => [r.state, r.data])).toEqual([['ok', 'late'], ['ok', 'quick']]);
    const rows = ext.report().plugins;
    expect(rows.find((p) => p.module === 'hog')!.profile!.slow).toBe(1);
    expect(rows.find((p) => p.module === 'quick')!.profile!.slow).toBe(0);
    expect(String(ext.report())).toContain('1 slow (past timeoutMs)');
    const health = await ext.health('h', 'p');
    expect(health.points[0]!.slow).toEqual([expect.objectContaining({ module: 'hog', count: 1, timeoutMs: 5 })]);
    expect(health.points[0]!.slow[0]!.lastMs).toBeGreaterThan(5);
  });

  it('counts overruns of unprofiled points too, in series, in parallel and in a pipe', async () => {
    const ext = make();
    ext.registerModule('hog', { h_p_Plugin: (x: unknown) => { block(20); return x; } });
    await ext.callPlugins('h', 'p', 1, { timeoutMs: 2 });
    await ext.callPlugins('h', 'p', 1, { timeoutMs: 2, parallel: true });
    await ext.pipe('h', 'p', 1, { timeoutMs: 2 });
    await ext.callPlugins('h', 'p', 1);
    const health = await ext.health('h', 'p');
    expect(health.points[0]!.slow).toEqual([expect.objectContaining({ module: 'hog', count: 3 })]);
  });

  it('an async plugin that blocks past timeoutMs before returning its promise counts as slow, not as a timeout', async () => {
    const ext = make();
    ext.registerModule('hog', { h_p_Plugin: async (x: unknown) => { block(20); return x; } });
    const serial = await ext.callPlugins('h', 'p', 1, { timeoutMs: 2 });
    const parallel = await ext.callPlugins('h', 'p', 1, { timeoutMs: 2, parallel: true });
    expect(await ext.pipe('h', 'p', 7, { timeoutMs: 2 })).toBe(7);
    expect([...serial, ...parallel].map((r) => [r.state, r.data])).toEqual([['ok', 1], ['ok', 1]]);
    expect((await ext.health('h', 'p')).points[0]!.slow).toEqual([expect.objectContaining({ module: 'hog', count: 3 })]);
  });

  it('a point whose plugins stay within timeoutMs has no slow plugins', async () => {
    const ext = make();
    ext.registerModule('quick', { h_p_Plugin: (x: unknown) => x });
    await ext.callPlugins('h', 'p', 1, { timeoutMs: 10_000 });
    expect((await ext.health('h', 'p')).points[0]!.slow).toEqual([]);
  });
});
