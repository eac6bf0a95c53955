/**
 * Report filters and the summary first screen (issue 17, item 10): `report({ failing, point, module, node })`,
 * the CLI's `--failing`, `--point M/P`, `--module M`, and a text report that fits 40 lines however many
 * plugins there are (its full table on request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as api from '../src/index.js';
import type { Extension, Report } from '../src/index.js';
import { runNode, type Run } from './helpers/run-node.js';

const CLI = resolve('dist/cli.js');

/** The filters as the issue names them; typed loosely here so that the test compiles before they exist. */
type Filter = Record<string, unknown>;
const report = (ext: Extension, filter?: Filter): Report => (ext.report as (f?: Filter) => Report).call(ext, filter);
const jsonReport = (r: Report): Record<string, unknown> =>
  (api as unknown as { jsonReport: (r: Report) => Record<string, unknown> }).jsonReport(r);

function host(): Extension {
  const ext = api.createExtension({ scanLoaded: false });
  ext.registerModule('shop', {
    shop_checkout_Extension: () => [],
    shop_refund_Extension: () => [],
    shop_checkout_Plugin: () => 'charged',
  });
  ext.registerModule('audit', {
    shop_checkout_Plugin: () => {
      throw new Error('audit store unreachable');
    },
  });
  ext.registerModule('mailer', { shipping_dispatch_Plugin: () => 'sent', shop_refund_Plugin: () => 'mailed' });
  ext.registerModule('ledgerUser', { shop_checkout_Plugin: api.definePlugin(() => 1, { depends: ['ledger'] }) });
  ext.callPluginsSync('shop', 'checkout');
  return ext;
}

const rows = (r: Report) => ({
  points: r.points.map((p) => p.fn),
  plugins: r.plugins.map((p) => `${p.module}.${p.fn}`),
  exits: r.status.exitReasons.map((e) => `${e.module}.${e.fn}`),
});

describe('report filters', () => {
  it('module: its points with the plugins serving them, and its own plugins wherever they plug in', () => {
    const ext = host();
    expect(rows(report(ext, { module: 'shop' }))).toEqual({
      points: ['shop_checkout_Extension', 'shop_refund_Extension'],
      plugins: ['audit.shop_checkout_Plugin', 'ledgerUser.shop_checkout_Plugin', 'mailer.shop_refund_Plugin', 'shop.shop_checkout_Plugin'],
      exits: ['audit.shop_checkout_Plugin'],
    });
    expect(rows(report(ext, { module: 'mailer' }))).toEqual({
      points: ['shop_refund_Extension'],
      plugins: ['mailer.shipping_dispatch_Plugin', 'mailer.shop_refund_Plugin'],
      exits: [],
    });
  });

  it('point: one point and its plugins, as "module/point" or with module', () => {
    const ext = host();
    const expected = {
      points: ['shop_checkout_Extension'],
      plugins: ['audit.shop_checkout_Plugin', 'ledgerUser.shop_checkout_Plugin', 'shop.shop_checkout_Plugin'],
      exits: ['audit.shop_checkout_Plugin'],
    };
    expect(rows(report(ext, { point: 'shop/checkout' }))).toEqual(expected);
    expect(rows(report(ext, { module: 'shop', point: 'checkout' }))).toEqual(expected);
    expect(rows(report(ext, { point: 'shipping/dispatch' })).plugins).toEqual(['mailer.shipping_dispatch_Plugin']);
  });

  it('failing: only plugins with exits, the points they serve, their exit reasons', () => {
    const ext = host();
    expect(rows(report(ext, { failing: true }))).toEqual({
      points: ['shop_checkout_Extension'],
      plugins: ['audit.shop_checkout_Plugin'],
      exits: ['audit.shop_checkout_Plugin'],
    });
    expect(rows(report(ext, { failing: true, module: 'mailer' }))).toEqual({ points: [], plugins: [], exits: [] });
    expect(rows(report(ext, { failing: false })).plugins).toHaveLength(5);
  });

  it('node: only the rows of that node', () => {
    const ext = host();
    expect(rows(report(ext, { node: 'local' })).plugins).toHaveLength(5);
    expect(rows(report(ext, { node: 'elsewhere' }))).toEqual({ points: [], plugins: [], exits: [] });
  });

  it('says in the text and the JSON what it was filtered by, and how much is hidden', () => {
    const ext = host();
    const filtered = report(ext, { module: 'mailer' });
    const lines = String(filtered).split('\n');
    expect(lines[1]).toBe('1 point, 2 plugins, 0 failing, 0 disabled or held, 0 load errors');
    expect(lines[2]).toBe('filtered by module mailer: 2 of 5 plugins, 1 of 2 points shown');
    expect(jsonReport(filtered).filter).toEqual({ module: 'mailer' });
    expect(Object.keys(jsonReport(report(ext)))).not.toContain('filter');
  });

  it('refuses a filter it does not know, naming it and what was meant', () => {
    const ext = host();
    expect(() => report(ext, { modul: 'shop' })).toThrow(TypeError);
    expect(() => report(ext, { modul: 'shop' })).toThrow(/"modul".*did you mean "module"/);
    expect(() => report(ext, { point: 'checkout' })).toThrow(/point.*"module\/point".*shop\/checkout|module\/point/);
    expect(() => report(ext, { failing: 'yes' })).toThrow(/failing must be true or false/);
    expect(() => report(ext, { module: 42 })).toThrow(/module must be a module name/);
    expect(() => report(ext, 'shop' as unknown as Filter)).toThrow(/report\(\) takes an object/);
  });
});

/** 200 plugin modules on 40 points of 8 host modules; some fail, some are disabled, some held. */
function bigHost(longNames = false): Extension {
  const ext = api.createExtension({ scanLoaded: false });
  const hostName = (h: number) => (longNames ? `host${h}${'x'.repeat(200)}` : `host${h}`);
  for (let h = 0; h < 8; h++) {
    const exports: Record<string, () => unknown> = {};
    for (let p = 0; p < 5; p++) exports[`${hostName(h)}_p${p}_Extension`] = () => [];
    ext.registerModule(hostName(h), exports);
  }
  for (let i = 0; i < 200; i++) {
    const target = `${hostName(i % 8)}_p${i % 5}_Plugin`;
    const fails = i % 7 === 0;
    const plugin = fails
      ? () => {
          throw new Error(`plugin ${i} failed: ${'a long reason '.repeat(longNames ? 20 : 1)}`);
        }
      : () => i;
    const held = i % 50 === 1;
    ext.registerModule(`plugin${i}${longNames ? 'y'.repeat(200) : ''}`, { [target]: held ? api.definePlugin(plugin, { depends: ['absent'] }) : plugin });
  }
  for (let h = 0; h < 8; h++) for (let p = 0; p < 5; p++) ext.callPluginsSync(hostName(h), `p${p}`);
  for (let i = 2; i < 200; i += 9) ext.disablePlugin(`plugin${i}${longNames ? 'y'.repeat(200) : ''}`, hostName(i % 8), `p${i % 5}`);
  return ext;
}

describe('the summary first screen', () => {
  it('fits 200 plugins in 40 lines, problems first, and says how to see more', () => {
    const text = String(bigHost().report());
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(lines[1]).toBe('40 points, 200 plugins, 29 failing, 25 disabled or held, 0 load errors');
    expect(text).toMatch(/plugin0 host0_p0_Plugin .*plugin 0 failed/);
    expect(text).toContain("report({ module: 'M' })");
    expect(text).toContain("report({ point: 'M/P' })");
    expect(text).toContain('report({ failing: true })');
    expect(text).toContain('report({ all: true })');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('fits in 40 lines of 80 columns with long names, long reasons, load errors and a terminate too', async () => {
    const ext = bigHost(true);
    for (let i = 0; i < 20; i++) ext.registerModule(`refused${i}${'z'.repeat(200)}`, { [`host0_p${i % 5}_Plugin`]: 42 });
    await ext.restart(`restarted ${'because '.repeat(30)}`);
    expect(ext.report().status.loadErrors).toHaveLength(20);
    const lines = String(ext.report()).split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('shows the full table on request, and for a filtered report', () => {
    const ext = bigHost();
    const full = String(report(ext, { all: true }));
    expect(full.split('\n').filter((l) => /^ {4}host\d_p\d_Plugin\s+plugin\d+\s/.test(l))).toHaveLength(200);
    const one = String(report(ext, { point: 'host0/p0' }));
    expect(one.split('\n').filter((l) => /^ {4}host0_p0_Plugin\s+plugin\d+\s/.test(l))).toHaveLength(5);
    expect(one).not.toMatch(/host1_p1_Plugin/);
  });
});

function extpoint(args: string[]): Promise<Run> {
  return runNode([CLI, ...args], { env: { NO_COLOR: '1' } });
}

describe('extpoint report filters', () => {
  let root: string;
  let folder: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ep-report-filters-'));
    folder = join(root, 'plugins');
    await mkdir(folder);
    await writeFile(join(folder, 'shop.cjs'), 'exports.shop_checkout_Extension = () => [];\nexports.shop_refund_Extension = () => [];');
    for (let i = 0; i < 200; i++) {
      await writeFile(join(folder, `plugin${i}.cjs`), `exports.${i % 2 === 0 ? 'shop_checkout' : 'shop_refund'}_Plugin = () => ${i};`);
    }
    for (let i = 0; i < 30; i++) await writeFile(join(folder, `broken${i}.cjs`), `throw new Error('broken ${i}');`);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prints a summary of 200 plugins and 30 load errors in 40 lines', async () => {
    const run = await extpoint(['report', '--plugins', folder]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(lines[1]).toBe('2 points, 200 plugins, 0 failing, 0 disabled or held, 30 load errors');
    expect(run.stdout).toMatch(/broken\d+\.cjs/);
    expect(run.stdout).toContain('--module M');
    expect(run.stdout).toContain('--point M/P');
    expect(run.stdout).toContain('--failing');
    expect(run.stdout).toContain('--all');
    expect(run.stdout).not.toContain('report({');
  });

  it('--all prints every row; --point M/P and --module M narrow', async () => {
    const all = await extpoint(['report', '--all', '--plugins', folder]);
    expect(all.stdout.split('\n').filter((l) => /^ {4}shop_\w+_Plugin\s+plugin\d+\s/.test(l))).toHaveLength(200);
    const point = await extpoint(['report', '--point', 'shop/refund', '--plugins', folder]);
    expect(point.code).toBe(0);
    expect(point.stdout.split('\n').filter((l) => /^ {4}shop_refund_Plugin\s+plugin\d+\s/.test(l))).toHaveLength(100);
    expect(point.stdout).not.toMatch(/shop_checkout_Plugin/);
    const module = await extpoint(['report', '--module', 'plugin7', '--plugins', folder]);
    expect(module.stdout).toMatch(/^ {4}shop_refund_Plugin\s+plugin7\s+local\s+enable/m);
    expect(module.stdout.match(/_Plugin\s+plugin\d+/g)).toHaveLength(1);
  });

  it('--failing keeps what failed (here the load errors) and drops the rest', async () => {
    const run = await extpoint(['report', '--failing', '--plugins', folder]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/_Plugin\s+plugin\d+/);
    expect(run.stdout.split('\n').filter((l) => /broken\d+\.cjs/.test(l))).toHaveLength(30);
  });

  it('--json takes the same filters', async () => {
    const run = await extpoint(['report', '--json', '--point', 'shop/checkout', '--plugins', folder]);
    const data = JSON.parse(run.stdout) as { filter: unknown; plugins: { fn: string }[]; points: { fn: string }[] };
    expect(data.filter).toEqual({ point: 'shop/checkout' });
    expect(data.points.map((p) => p.fn)).toEqual(['shop_checkout_Extension']);
    expect(data.plugins).toHaveLength(100);
  });

  it('refuses a point without its module as a usage error', async () => {
    const run = await extpoint(['report', '--point', 'checkout', '--plugins', folder]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--point.*module\/point/);
  });
});
