/**
 * The web panel over plain HTTP (no browser): options, the token and cookie, 401 and 403, the actions and
 * their record in the report, the event stream's limit and its timer, and that close() and stop() leave
 * nothing listening. test/panel-browser.test.ts drives the page in Chromium.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { request } from 'node:http';
import { createExtension, type Extension, type PanelService } from '../src/index.js';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { EventHub, MAX_STREAMS } from '../src/panel/events.js';
import { PassThrough } from 'node:stream';
import { startReplSession } from '../src/operator/repl.js';

const opened: Extension[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((ext) => ext.stop()));
});

function makeHost(): Extension {
  const ext = createExtension({ scanLoaded: false });
  ext.registerModule('shop', { shop_price_Extension: () => ext.callPluginsSync('shop', 'price', 1) });
  ext.registerModule('tax', { shop_price_Plugin: (cents: number) => cents * 2 });
  opened.push(ext);
  return ext;
}

const base = (panel: PanelService) => panel.url.slice(0, panel.url.indexOf('#'));

/** A POST of an action, with the headers a same-origin page sends unless `headers` overrides them. */
function post(panel: PanelService, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const origin = base(panel).slice(0, -1);
  return fetch(`${base(panel)}actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-extpoint-token': panel.token, origin, 'sec-fetch-site': 'same-origin', ...headers },
    body: JSON.stringify(body),
  });
}

/** Whether something accepts connections on `port` of 127.0.0.1. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('servePanel options', () => {
  it('names the nearest option for an unknown key', async () => {
    const ext = makeHost();
    await expect(ext.servePanel({ prot: 0 } as never)).rejects.toThrow(/unknown option "prot" in servePanel options; did you mean "port"\?/);
  });

  it('refuses a non-loopback host without an explicit token, and bad values', async () => {
    const ext = makeHost();
    await expect(ext.servePanel({ host: '0.0.0.0' })).rejects.toThrow(/reachable from other machines; give it an explicit token/);
    await expect(ext.servePanel({ port: 70000 })).rejects.toThrow(/port must be an integer from 0 to 65535/);
    await expect(ext.servePanel({ token: 'short' })).rejects.toThrow(/token must be 16 to 256 letters/);
  });

  it('listens on loopback by default, with a generated token in the URL fragment', async () => {
    const panel = await makeHost().servePanel();
    expect(panel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{16,}$/);
    expect(panel.url.endsWith(panel.token)).toBe(true);
    await panel.close();
  });
});

describe('servePanel access', () => {
  it('answers 401 to every route without token or cookie, and 200 with either', async () => {
    const panel = await makeHost().servePanel();
    for (const path of ['', 'panel.js', 'panel.css', 'report.json', 'events', 'session']) {
      const res = await fetch(`${base(panel)}${path}`);
      expect(res.status, path).toBe(401);
      await res.body?.cancel();
    }
    const page = await fetch(base(panel));
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
    expect(await page.text()).toContain('src="/login.js"');
    const withToken = await fetch(`${base(panel)}report.json`, { headers: { 'x-extpoint-token': panel.token } });
    expect(withToken.status).toBe(200);
    expect((await withToken.json()).plugins[0].module).toBe('tax');
    const wrong = await fetch(`${base(panel)}report.json`, { headers: { 'x-extpoint-token': 'x'.repeat(panel.token.length) } });
    expect(wrong.status).toBe(401);
  });

  it('exchanges the token for an HttpOnly SameSite=Strict cookie that opens the page', async () => {
    const panel = await makeHost().servePanel();
    const origin = base(panel).slice(0, -1);
    const session = await fetch(`${base(panel)}session`, { method: 'POST', headers: { 'x-extpoint-token': panel.token, origin } });
    expect(session.status).toBe(204);
    const cookie = session.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(base(panel), { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="/panel.js"');
  });

  it('refuses a cross-origin or origin-less POST with 403, and a POST without the token header with 401', async () => {
    const ext = makeHost();
    const panel = await ext.servePanel();
    const action = { action: 'disablePlugin', plugin: 'tax', module: 'shop', point: 'price' };
    expect((await post(panel, action, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(panel, action, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post(panel, action, { origin: '' })).status).toBe(403);
    expect((await post(panel, action, { 'x-extpoint-token': '' })).status).toBe(401);
    expect(ext.report().plugins[0]!.enabled).toBe(true);
    expect(ext.report().status.operatorActions).toEqual([]);
  });

  it('refuses a Host header that is not the panel (DNS rebinding)', async () => {
    const panel = await makeHost().servePanel();
    const { port } = new URL(panel.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/report.json', headers: { host: `attacker.example:${port}`, 'x-extpoint-token': panel.token } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('servePanel actions', () => {
  it('applies flags and runs health, each recorded with "panel" as its source', async () => {
    const ext = makeHost();
    const panel = await ext.servePanel();
    const off = await post(panel, { action: 'disablePlugin', plugin: 'tax', module: 'shop', point: 'price' });
    expect(await off.json()).toEqual({ outcome: 'applied' });
    expect(ext.report().plugins[0]!.enabled).toBe(false);
    await post(panel, { action: 'disablePoint', module: 'shop', point: 'price' });
    expect(ext.report().points[0]!.enabled).toBe(false);
    const health = await post(panel, { action: 'health', module: 'shop', point: 'price' });
    expect((await health.json()).outcome).toBe('healthy');
    const bad = await post(panel, { action: 'enablePlugin', module: 'shop', point: 'price' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/"plugin"/);
    const actions = ext.report().status.operatorActions!;
    expect(actions.map((a) => [a.n, a.source, a.action, a.target, a.outcome])).toEqual([
      [1, 'panel', 'disablePlugin', 'tax on shop.price', 'applied'],
      [2, 'panel', 'disablePoint', 'shop.price', 'applied'],
      [3, 'panel', 'health', 'shop.price', 'healthy'],
      [4, 'panel', 'enablePlugin', 'shop.price', 'error: the action needs "plugin" as a string'],
    ]);
    expect(JSON.parse(JSON.stringify(ext.report())).status.operatorActions[0].source).toBe('panel');
  });
});

describe('servePanel live updates', () => {
  /** Opens an event stream; resolves with its response and a reader of its events' data. */
  async function stream(panel: PanelService) {
    const controller = new AbortController();
    const res = await fetch(`${base(panel)}events`, { headers: { 'x-extpoint-token': panel.token }, signal: controller.signal });
    const reader = res.body!.getReader();
    let buffered = '';
    const next = async (): Promise<Record<string, any>> => {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event);
          if (data !== null) return JSON.parse(data[1]!);
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffered += new TextDecoder().decode(value);
      }
    };
    return { res, next, close: () => controller.abort() };
  }

  it('sends the report at once, then each changed report', async () => {
    const ext = makeHost();
    const panel = await ext.servePanel();
    const s = await stream(panel);
    expect(s.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = await s.next();
    expect(first.plugins[0].enabled).toBe(true);
    ext.disablePlugin('tax', 'shop', 'price');
    const second = await s.next();
    expect(second.plugins[0].enabled).toBe(false);
    ext.callPluginsSync('shop', 'price', 1); // the plugin is off: nothing runs, nothing changes, nothing is sent
    ext.enablePlugin('tax', 'shop', 'price');
    ext.callPluginsSync('shop', 'price', 1);
    let third = await s.next();
    // The timer may have seen the report between the two calls: the next event after that has the call.
    if (third.points[0].ok === 0) third = await s.next();
    expect(third.plugins[0].enabled).toBe(true);
    expect(third.points[0].ok).toBe(1);
    s.close();
  });

  it('runs its one timer only while a stream is open', () => {
    let snapshots = 0;
    const hub = new EventHub(() => `{"n":${++snapshots}}`);
    const fake = () => Object.assign(new EventEmitter(), { writeHead() {}, write() {}, end() {} }) as unknown as ServerResponse;
    expect(hub.ticking).toBe(false);
    const a = fake();
    const b = fake();
    hub.open(a);
    hub.open(b);
    expect(hub.ticking).toBe(true);
    a.emit('close');
    expect(hub.ticking).toBe(true);
    b.emit('close');
    expect(hub.ticking).toBe(false);
    expect(hub.size).toBe(0);
  });

  it(`serves at most ${MAX_STREAMS} event streams; one more gets 503`, async () => {
    const panel = await makeHost().servePanel();
    const streams = [];
    for (let i = 0; i < MAX_STREAMS; i++) {
      const s = await stream(panel);
      await s.next();
      streams.push(s);
    }
    const extra = await fetch(`${base(panel)}events`, { headers: { 'x-extpoint-token': panel.token } });
    expect(extra.status).toBe(503);
    await extra.body?.cancel();
    for (const s of streams) s.close();
  });

  it('close() and stop() leave nothing listening, open streams included', async () => {
    const ext = makeHost();
    const a = await ext.servePanel();
    const b = await ext.servePanel();
    const s = await stream(a);
    await s.next();
    const portA = Number(new URL(a.url).port);
    const portB = Number(new URL(b.url).port);
    await b.close();
    expect(await listening(portB)).toBe(false);
    expect(await listening(portA)).toBe(true);
    await ext.stop();
    expect(await listening(portA)).toBe(false);
    await expect(s.next()).rejects.toThrow();
  });
});

describe('the REPL\'s .panel', () => {
  it('starts a panel on the session\'s extension and prints its address', async () => {
    const ext = makeHost();
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const repl = await startReplSession(ext, { input, output, terminal: false, color: false });
    const exited = new Promise((done) => repl.once('exit', done));
    input.write('.panel nine\n.panel\n');
    const deadline = Date.now() + 10_000;
    while (!/panel: http/.test(text) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    input.end();
    await exited;
    expect(text).toMatch(/usage: \.panel \[PORT\]/);
    const url = /panel: (http:\S+)/.exec(text)![1]!;
    const res = await fetch(`${url.slice(0, url.indexOf('#'))}report.json`, { headers: { 'x-extpoint-token': url.slice(url.indexOf('#token=') + 7) } });
    expect(res.status).toBe(200);
    expect((await res.json()).points[0].fn).toBe('shop_price_Extension');
  });
});
