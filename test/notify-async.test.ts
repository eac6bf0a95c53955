/**
 * notify and async plugins (issue 17, item 2): the caller does not wait, but a notified async plugin is
 * counted `ok` when its promise fulfils and `EXIT`, with the reason, when it rejects.
 */
import { describe, expect, it } from 'vitest';
import { createExtension, type Extension } from '../src/index.js';
import { noUnhandledRejections, sleep } from './helpers/unhandled.js';

const make = (): Extension => createExtension({ scanLoaded: false });

function counts(ext: Extension): [string, number, number][] {
  return ext.report().plugins.map((p) => [p.module, p.ok, p.exit]);
}

/** A promise with its resolve and reject in hand. */
function deferred(): { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void } {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

for (const profiled of [false, true]) {
  describe(`notify with async plugins${profiled ? ', profiled' : ''}`, () => {
    it('counts a fulfilled async plugin ok, once it fulfils, and the caller does not wait', async () => {
      const ext = make();
      const d = deferred();
      ext.registerModule('a', { h_evt_Plugin: () => d.promise });
      ext.registerModule('b', { h_evt_Plugin: () => 'sync' });
      if (profiled) ext.profile('h', 'evt', true);
      expect(ext.notify('h', 'evt', 1)).toBeUndefined();
      // not settled yet: counted neither way, the sync plugin already counted
      expect(counts(ext)).toEqual([['a', 0, 0], ['b', 1, 0]]);
      d.resolve('done');
      await sleep(0);
      expect(counts(ext)).toEqual([['a', 1, 0], ['b', 1, 0]]);
      expect(ext.report().status.exitReasons).toEqual([]);
      expect(ext.report().points[0]).toMatchObject({ ok: 2, exit: 0 });
    });

    it('counts a rejected async plugin as EXIT with the rejection as reason, with no unhandled rejection', async () => {
      await noUnhandledRejections(async () => {
        const ext = make();
        const reason = new Error('async boom');
        ext.registerModule('a', { h_evt_Plugin: async () => { throw reason; } });
        ext.registerModule('b', { h_evt_Plugin: async () => 'fine' });
        if (profiled) ext.profile('h', 'evt', true);
        ext.notify('h', 'evt');
        ext.notify('h', 'evt');
        await sleep(0);
        expect(counts(ext)).toEqual([['a', 0, 2], ['b', 2, 0]]);
        const exits = ext.report().status.exitReasons;
        expect(exits.map((e) => [e.module, e.n])).toEqual([['a', 1], ['a', 2]]);
        expect(exits[0]!.reason).toBe(reason);
        expect((exits[0]!.reason as { code?: string }).code).toBeUndefined();
      });
    });

    it('counts a thenable that is not a native promise by its outcome, once', async () => {
      await noUnhandledRejections(async () => {
        const ext = make();
        ext.registerModule('twice', {
          h_evt_Plugin: () => ({ then: (ok: (v: unknown) => void, no: (e: unknown) => void) => { ok(1); ok(2); no(3); } }),
        });
        ext.registerModule('fails', { h_evt_Plugin: () => ({ then: (_ok: unknown, no: (e: unknown) => void) => no('nope') }) });
        if (profiled) ext.profile('h', 'evt', true);
        ext.notify('h', 'evt');
        await sleep(0);
        expect(counts(ext)).toEqual([['fails', 0, 1], ['twice', 1, 0]]);
        expect(ext.report().status.exitReasons.map((e) => e.reason)).toEqual(['nope']);
      });
    });

    it('keeps counts exact when many notifications are in flight', async () => {
      const ext = make();
      let n = 0;
      ext.registerModule('a', { h_evt_Plugin: async () => { if (++n % 3 === 0) throw new Error('every third'); } });
      if (profiled) ext.profile('h', 'evt', true);
      const handle = ext.point('h', 'evt');
      for (let i = 0; i < 300; i++) (i % 2 ? handle.notify(i) : ext.notify('h', 'evt', i));
      await sleep(10);
      expect(counts(ext)).toEqual([['a', 200, 100]]);
    });
  });
}

describe('notify with many async plugins', () => {
  it('counts each by its outcome beyond the generated size too', async () => {
    const ext = make();
    for (let i = 0; i < 40; i++) {
      const name = `m${String(i).padStart(2, '0')}`;
      ext.registerModule(name, { h_evt_Plugin: i % 2 ? async () => i : async () => { throw new Error(name); } });
    }
    ext.notify('h', 'evt');
    await sleep(0);
    const rows = counts(ext);
    expect(rows.filter(([, ok, exit]) => ok === 1 && exit === 0)).toHaveLength(20);
    expect(rows.filter(([, ok, exit]) => ok === 0 && exit === 1)).toHaveLength(20);
  });
});
