/**
 * The web panel in a real Chromium (Debian's `chromium`, driven by playwright-core): sign-in through the
 * URL's fragment, the demo's plugins on the page, a click that changes `ext.report()`, a flag set from
 * code that changes the page, a sparkline of calls, inert XSS attempts, 401 without the cookie and 403 for a cross-origin POST.
 * The tests take the screenshots the README shows: into docs/ (panel-light.png, panel-dark.png,
 * panel-filtered.png) when EXTPOINT_SCREENSHOTS=1 is set, otherwise into a temp folder, so a test run
 * leaves the committed pictures alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createExtension, type Extension, type PanelService } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..');
/** Where screenshots go: docs/ when asked for, else a temp folder removed at the end. */
const SHOTS = process.env.EXTPOINT_SCREENSHOTS === '1' ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'extpoint-panel-shots-'));
const shot = (name: string) => join(SHOTS, name);
/** Generous: the page gets each change within a second, but the machine may be busy. */
const DEADLINE = 15_000;

let ext: Extension;
let panel: PanelService;
let context: BrowserContext;
let page: Page;
let profile: string;

/** Waits until `check()` is true, or fails after DEADLINE. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + DEADLINE;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

const pointCard = '[data-point="plugin_demo.point1"]';
const pluginItem = (module: string) => `${pointCard} li[data-plugin="${module}"]`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  ext = createExtension({ scanLoaded: false, pluginDirs: [join(ROOT, 'plugins')], watch: false });
  // The demo's host module, as demo/plugin_demo.js declares it.
  ext.registerModule('plugin_demo', {
    plugin_demo_point1_Extension: (args: unknown) => ext.callPluginsSync('plugin_demo', 'point1', args),
    plugin_demo_point1_Plugin: (args: unknown) => ({ from: 'plugin_demo', got: args }),
  });
  await ext.start();
  for (let i = 0; i < 3; i++) ext.callPluginsSync('plugin_demo', 'point1', { order: i });
  panel = await ext.servePanel();
  profile = mkdtempSync(join(tmpdir(), 'extpoint-panel-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 760 },
  });
  context.setDefaultTimeout(DEADLINE);
  page = context.pages()[0] ?? (await context.newPage());
}, 60_000);

afterAll(async () => {
  await context?.close();
  await ext?.stop();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  if (SHOTS !== join(ROOT, 'docs')) rmSync(SHOTS, { recursive: true, force: true });
});

describe('the web panel in Chromium', () => {
  it('signs in with the URL, drops the token from the address bar and shows the demo plugins', async () => {
    await page.goto(panel.url);
    await page.waitForSelector(pluginItem('anat'), { timeout: DEADLINE });
    expect(page.url()).not.toContain(panel.token);
    const cookies = await context.cookies(panel.url);
    expect(cookies.find((c) => c.name.startsWith('extpoint-panel-'))).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const modules = await page.$$eval(`${pointCard} li[data-plugin]`, (items) => items.map((li) => (li as HTMLElement).dataset.plugin));
    expect(modules.sort()).toEqual(['anat', 'plugin2', 'plugin_demo']);
    await expect(page.textContent(`${pointCard} .point-head .exit`)).resolves.toBe('exit 3');
    expect(await page.$$(`${pointCard} svg.spark polyline`)).toHaveLength(2);
    // Calls while the page is open draw the point's sparkline (sampled each second by the page): a few seconds of it.
    const storm = setInterval(() => ext.callPluginsSync('plugin_demo', 'point1', { order: 5 }), 100);
    try {
      await page.waitForFunction(
        (card) => /^last ([5-9]|\d\d+) s: [1-9]\d* ok, [1-9]\d* exits$/.test(document.querySelector(`${card} svg.spark title`)?.textContent ?? ''),
        pointCard,
        { timeout: DEADLINE },
      );
    } finally {
      clearInterval(storm);
    }
    await page.click('#exits details.exit summary');
    await page.screenshot({ path: shot('panel-light.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: shot('panel-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('a click on a plugin disables it in the host, recorded as a panel action', async () => {
    await page.click(`${pluginItem('anat')} button.toggle`);
    const anat = () => ext.report().plugins.find((p) => p.module === 'anat')!;
    await until(() => !anat().enabled, 'anat is disabled');
    expect(ext.report().status.operatorActions!.at(-1)).toMatchObject({ source: 'panel', action: 'disablePlugin', target: 'anat on plugin_demo.point1', outcome: 'applied' });
    await page.waitForSelector(`${pluginItem('anat')}.off`, { timeout: DEADLINE });
    await page.click(`${pointCard} button.health`);
    await page.waitForFunction(() => /health plugin_demo\.point1: (un)?healthy/.test(document.getElementById('verdict')!.textContent ?? ''), null, { timeout: DEADLINE });
  });

  it('a flag set from code shows on the page without a reload', async () => {
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    ext.disablePoint('plugin_demo', 'point1');
    await page.waitForSelector(`${pointCard}.off`, { timeout: DEADLINE });
    ext.enablePoint('plugin_demo', 'point1');
    await page.waitForSelector(`${pointCard}:not(.off)`, { timeout: DEADLINE });
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(loads);
  });

  it('shows plugin-provided HTML as text: XSS attempts stay inert', async () => {
    const attack = '<img src=x onerror="window.__pwned=1">';
    ext.registerModule('evil', {
      plugin_demo_point1_Plugin: () => {
        throw new Error(attack);
      },
    });
    ext.callPluginsSync('plugin_demo', 'point1', { order: 1 });
    await ext.restart(`<script>window.__pwned=2</script>${attack}`);
    await page.waitForFunction(
      (text) => [...document.querySelectorAll('.reason')].some((el) => el.textContent?.includes(text)),
      attack,
      { timeout: DEADLINE },
    );
    await page.fill('#filter', 'evil');
    await page.waitForSelector(pluginItem('evil'), { timeout: DEADLINE });
    await page.screenshot({ path: shot('panel-filtered.png'), fullPage: true });
    await page.fill('#filter', '');
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.$$('main img, main script')).toHaveLength(0);
  });

  it('answers 401 to a browser without the cookie', async () => {
    const other = await context.newPage();
    // localhost is another host for cookies: the panel's cookie, set for 127.0.0.1, is not sent.
    const port = new URL(panel.url).port;
    const res = await other.goto(`http://localhost:${port}/report.json`);
    expect(res?.status()).toBe(401);
    const page401 = await other.goto(`http://localhost:${port}/`);
    expect(page401?.status()).toBe(401);
    await other.close();
  });

  it('refuses a POST from another origin with 403 and changes nothing', async () => {
    // Another site the browser visits: a page of its own, on another port.
    const site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done));
    const other = await context.newPage();
    try {
      await other.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      const before = ext.report().status.operatorActions!.length;
      // A form post, the classic cross-site request: no preflight, and the cookie is not sent (SameSite=Strict);
      // the panel refuses it for its Origin before anything else.
      const answered = other.waitForNavigation();
      await other.evaluate((url) => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = url;
        form.enctype = 'text/plain';
        const field = document.createElement('input');
        field.name = '{"action":"disablePoint","module":"plugin_demo","point":"point1","x":"';
        field.value = '"}';
        form.append(field);
        document.body.append(form);
        form.submit();
      }, `${panel.url.slice(0, panel.url.indexOf('#'))}actions`);
      expect((await answered)?.status()).toBe(403);
      expect(ext.report().points[0]!.enabled).toBe(true);
      expect(ext.report().status.operatorActions!.length).toBe(before);
    } finally {
      await other.close();
      site.closeAllConnections();
      await new Promise((done) => site.close(done));
    }
  });

  it('shows worker nodes, with their status, once the host has one', async () => {
    // The demo host has no worker node: no nodes section.
    expect(await page.locator('#nodes-section').isHidden()).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'extpoint-panel-node-'));
    writeFileSync(join(dir, 'far.cjs'), 'exports.app_hello_Plugin = (a) => "far " + a;\n');
    const host = createExtension({ scanLoaded: false, pluginDirs: [{ path: dir, node: 'sandbox', isolation: 'worker' }], watch: false });
    try {
      await host.start();
      await host.callPlugins('app', 'hello', 'x');
      const nodePanel = await host.servePanel();
      const nodePage = await context.newPage();
      await nodePage.goto(nodePanel.url);
      await nodePage.waitForFunction(() => document.querySelector('#nodes')?.textContent?.includes('sandbox (worker) up'), undefined, {
        timeout: DEADLINE,
      });
      expect(await nodePage.locator('#nodes').textContent()).toMatch(/sandbox \(worker\) up · 1 plugins/);
      await nodePage.close();
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
