import { describe, expect, it } from 'vitest';
import { CodecError, decodeValue, encodeValue } from '../src/cluster/codec.js';
import {
  checkNodeName,
  pack,
  parseAnnounce,
  parseAnswers,
  parseBye,
  parseHeartbeat,
  parseRequest,
  subjects,
} from '../src/cluster/protocol.js';
import { ExtpointError, isExtpointError } from '../src/core/errors.js';

const roundTrip = (value: unknown): unknown => decodeValue(JSON.parse(JSON.stringify(encodeValue(value, 'args'))));

describe('the JSON codec', () => {
  it('carries data, undefined, odd numbers, dates, errors, maps, sets and bytes', () => {
    const error = Object.assign(new TypeError('bad'), { code: 'E_BAD' });
    const value = {
      s: 'x',
      n: 1.5,
      nan: NaN,
      inf: -Infinity,
      u: undefined,
      list: [1, undefined, null],
      at: new Date(86_400_000),
      error,
      map: new Map<unknown, unknown>([['k', new Date(0)]]),
      set: new Set([1, 'a']),
      bytes: new Uint8Array([0, 255, 7]),
      $: 'a key named $',
      nested: { $: { $: 1 } },
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(Object.hasOwn(back, 'u')).toBe(true);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.error).toBeInstanceOf(Error);
    expect(back.error).toMatchObject({ name: 'TypeError', message: 'bad', code: 'E_BAD', stack: error.stack });
    expect(back.bytes).toBeInstanceOf(Uint8Array);
  });

  it('keeps a __proto__ key as data, without touching the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(back)).toEqual(['__proto__']);
  });

  it("brings extpoint's own errors back as ExtpointError", () => {
    const back = roundTrip(new ExtpointError('EDATACLONE', 'x'));
    expect(isExtpointError(back, 'EDATACLONE')).toBe(true);
  });

  it('refuses what cannot cross, naming where it sits', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const cases: Array<[unknown, string, RegExp]> = [
      [{ big: 1n }, 'args.big', /BigInt/],
      [{ list: [1, { f: () => 1 }] }, 'args.list[1].f', /function/],
      [cycle, 'args.self', /cycle/],
      [{ s: Symbol('x') }, 'args.s', /symbol/],
      [{ p: Promise.resolve(1) }, 'args.p', /promise/],
      [{ m: new Map([[1, { g() {} }]]) }, 'args.m.get(<key 0>).g', /function/],
    ];
    for (const [value, path, why] of cases) {
      let thrown: unknown;
      try {
        encodeValue(value, 'args');
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(CodecError);
      expect((thrown as CodecError).path).toBe(path);
      expect((thrown as CodecError).message).toMatch(why);
    }
  });

  it('shares an object seen twice (not a cycle) as two copies', () => {
    const shared = { x: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ x: 1 }, { x: 1 }]);
  });

  it('refuses tags it does not write', () => {
    expect(() => decodeValue({ $: 'function', v: 'x' })).toThrow(/tag/);
    expect(() => decodeValue({ $: 'date', v: 'not a date' })).toThrow(/tag/);
    expect(() => decodeValue({ $: 'error', name: 1, message: 'x' })).toThrow(/tag/);
  });
});

describe('the protocol', () => {
  const s = subjects('prod');

  it('namespaces subjects by cluster and node, and reads them back', () => {
    expect(s.call('billing-eu')).toBe('extpoint.prod.node.billing-eu.call');
    expect(s.every('heartbeat')).toBe('extpoint.prod.node.*.heartbeat');
    expect(s.parse('extpoint.prod.node.billing-eu.announce')).toEqual({ node: 'billing-eu', kind: 'announce' });
    expect(s.parse('extpoint.other.node.billing-eu.announce')).toBeNull();
    expect(s.parse('extpoint.prod.node.a.b.announce')).toBeNull();
  });

  it('refuses node names that are not one subject token', () => {
    for (const bad of ['a.b', 'a b', '*', '>', '', 'x'.repeat(65), 7]) expect(() => checkNodeName(bad)).toThrow(/NATS subject token/);
    expect(checkNodeName('billing_eu-1')).toBe('billing_eu-1');
  });

  const announce = {
    v: 1,
    t: 'announce',
    node: 'n1',
    instance: 'abc',
    seq: 1,
    heartbeatMs: 100,
    modules: [
      {
        name: 'greet',
        plugins: [{ fn: 'app_hello_Plugin', module: 'app', point: 'hello', meta: { priority: 50, depends: [] } }],
        points: [],
        problems: [],
        health: false,
      },
    ],
    loadErrors: [],
  };

  it('reads a well-formed announcement', () => {
    expect(parseAnnounce(pack(announce), 'n1')).toEqual(announce);
  });

  it('drops (null, never throws) whatever does not parse or fit', () => {
    const bytes = (o: unknown) => pack(o as object);
    const bad: Uint8Array[] = [
      new Uint8Array([0xff, 0xfe, 0x00]),
      new TextEncoder().encode('{not json'),
      bytes([]),
      bytes({ ...announce, v: 2 }),
      bytes({ ...announce, node: 'n2' }),
      bytes({ ...announce, instance: 'a.b' }),
      bytes({ ...announce, modules: [{ ...announce.modules[0], name: 'bad name' }] }),
      // a plugin whose export name does not match its module and point
      bytes({ ...announce, modules: [{ ...announce.modules[0], plugins: [{ fn: 'x_y_Plugin', module: 'app', point: 'hello', meta: { priority: 50, depends: [] } }] }] }),
      bytes({ ...announce, modules: [{ ...announce.modules[0], plugins: [{ ...announce.modules[0]!.plugins[0], meta: { priority: 500, depends: [] } }] }] }),
      bytes({ ...announce, modules: [announce.modules[0], announce.modules[0]] }),
    ];
    for (const b of bad) expect(parseAnnounce(b, 'n1')).toBeNull();
    expect(parseHeartbeat(bytes({ v: 1, t: 'heartbeat', node: 'n1', instance: 'a', seq: 0, heartbeatMs: 100 }), 'n1')).toBeNull();
    expect(parseBye(bytes({ v: 1, t: 'bye', node: 'n1', instance: 'a' }), 'n1')).toBeNull();
    expect(parseRequest(bytes({ v: 1, t: 'call', calls: [] }))).toBeNull();
    expect(parseRequest(bytes({ v: 1, t: 'call', calls: [{ module: 'm', fn: 'f' }] }))).toBeNull();
    expect(parseRequest(bytes({ v: 1, t: 'exec', code: 'x' }))).toBeNull();
    expect(parseRequest(bytes({ v: 1, t: 'call', calls: [{ module: 'm', fn: 'f', args: null }] }))).not.toBeNull();
  });

  it('reads answers, and says why a reply does not fit', () => {
    expect(parseAnswers(pack({ v: 1, t: 'answers', answers: [{ ok: true, data: { $: 'undefined' } }] }), 1)).toEqual([{ ok: true, data: undefined }]);
    expect(parseAnswers(pack({ v: 1, t: 'answers', answers: [] }), 1)).toMatch(/0 answers for 1 calls/);
    expect(parseAnswers(pack({ v: 1, t: 'answers', answers: [{ ok: true, data: { $: 'nope' } }] }), 1)).toMatch(/does not decode/);
    expect(parseAnswers(pack({ v: 1, t: 'refused', message: 'old version' }), 1)).toMatch(/refused the request: old version/);
  });
});
