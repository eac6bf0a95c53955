/**
 * Keeps the benchmarks from rotting: runs `node bench/run.js --quick` against the built package (the
 * global setup builds dist/) and checks that every case ran, produced numbers, wrote the documented JSON,
 * and that case 7's counter check held. It never asserts on speed: that is what the numbers are for.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface Row {
  variant: string;
  label: string;
  unit: string;
  median: number | null;
  min: number | null;
  max: number | null;
  values: number[];
  ratio: number | null;
  ratioTo: string | null;
}
interface Goal {
  text: string;
  kind: 'ratio' | 'absolute';
  measured: number | null;
  limit: number;
  op: '<' | '<=';
  met: boolean;
}
interface Check {
  name: string;
  passed: boolean;
  detail: string;
}
interface BenchCase {
  id: string;
  title: string;
  results: Row[];
  goals: Goal[];
  checks: Check[];
}
interface Results {
  schema: number;
  date: string;
  quick: boolean;
  node: string;
  cpus: number;
  runs: number;
  cases: BenchCase[];
  goals: (Goal & { case: string })[];
  checksPassed: boolean;
  failures: string[];
}

const root = path.resolve(import.meta.dirname, '..');
const caseFiles = readdirSync(path.join(root, 'bench', 'cases')).filter((f) => f.endsWith('.js'));

let dir: string;
let stdout = '';
let stderr = '';
let exitCode: number | null = null;
let results: Results;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'extpoint-bench-'));
  const out = path.join(dir, 'nested', 'results.json');
  await new Promise<void>((resolve) => {
    const child = execFile(
      process.execPath,
      ['bench/run.js', '--quick', '--out', out],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (_err, so, se) => {
        stdout = so;
        stderr = se;
        resolve();
      },
    );
    child.on('exit', (code) => (exitCode = code));
  });
  results = JSON.parse(readFileSync(out, 'utf8')) as Results;
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench --quick', () => {
  it('exits 0 with every contestant run and every check passed', () => {
    expect(stderr, stdout).not.toMatch(/failed/i);
    expect(results.failures).toEqual([]);
    expect(results.checksPassed).toBe(true);
    expect(exitCode).toBe(0);
  });

  it('writes the documented JSON shape', () => {
    expect(results.schema).toBe(1);
    expect(results.quick).toBe(true);
    expect(results.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(results.date))).toBe(false);
    expect(results.cpus).toBeGreaterThan(0);
    expect(results.runs).toBe(1);
  });

  it('runs every case file, and every contestant produces a positive number', () => {
    expect(results.cases.map((c) => c.id).sort()).toEqual(caseFiles.map((f) => f.split('-')[0]).sort());
    expect(results.cases.map((c) => c.id)).toEqual(['1', '2', '3', '4', '5', '6a', '6b', '6c', '7', '8', '9', '10', '11', '12', '13', '14']);
    for (const c of results.cases) {
      expect(c.results.length, c.id).toBeGreaterThan(0);
      for (const r of c.results) {
        expect(Number.isFinite(r.median), `${c.id} ${r.variant}`).toBe(true);
        // Times and rates are positive; a heap growth (MB) may come out just below zero after GC.
        if (r.unit !== 'MB') expect(r.median, `${c.id} ${r.variant}`).toBeGreaterThan(0);
        expect(r.values.length, `${c.id} ${r.variant}`).toBe(1);
        expect(typeof r.unit).toBe('string');
        if (r.ratioTo !== null) {
          const base = c.results.find((b) => b.variant === r.ratioTo);
          expect(base, `${c.id} ${r.variant} ratio base`).toBeDefined();
          expect(r.ratio).toBeGreaterThan(0);
        }
      }
    }
  });

  it('judges every goal with a measured value, and lists them all at the top level', () => {
    const perCase = results.cases.flatMap((c) => c.goals);
    expect(results.goals.length).toBe(perCase.length);
    expect(perCase.length).toBeGreaterThanOrEqual(10);
    for (const g of results.goals) {
      expect(Number.isFinite(g.measured), g.text).toBe(true);
      expect(typeof g.met).toBe('boolean');
      expect(g.met).toBe(g.op === '<' ? g.measured! < g.limit : g.measured! <= g.limit);
    }
    // The goals of issue 6 are all there.
    const texts = results.goals.map((g) => g.text).join('\n');
    for (const phrase of ['generated floor', 'EventEmitter.emit', 'SyncHook', 'async floor', 'AsyncSeriesHook', 'hookable', 'callPluginsSync']) {
      expect(texts).toContain(phrase);
    }
  });

  it("passes case 7's counter checks, for reloads by registerModule and by file, and prints them", () => {
    const c7 = results.cases.find((c) => c.id === '7')!;
    expect(c7.checks.length).toBeGreaterThanOrEqual(8);
    expect(new Set(c7.checks.map((k) => (k as Check & { variant: string }).variant))).toEqual(new Set(['registered', 'folder']));
    for (const check of c7.checks) expect(check.passed, `${check.name}: ${check.detail}`).toBe(true);
    expect(stdout).toMatch(/\[check passed\] reloads by registerModule: each plugin: report ok \+ exit = calls made/);
    expect(stdout).toMatch(/\[check passed\] reloads of a watched file: each plugin: report ok \+ exit = calls made/);
  });

  it('prints a table per case and a goal summary', () => {
    for (const c of results.cases) expect(stdout).toContain(`${c.id}. ${c.title}`);
    expect(stdout).toMatch(/Goals: \d+ of \d+ met\./);
    expect(stdout).toContain('Correctness checks: all passed.');
  });
});
