#!/usr/bin/env node
/**
 * `npm run bench`: every speed and memory claim of extpoint, measured side by side with its anchors.
 *
 *   node bench/run.js [--quick] [--out PATH] [--only CASE_ID[,CASE_ID...]] [--runs N]
 *
 * Each case (a file in bench/cases/) names its contestants. Every contestant runs in a fresh child
 * process, `runs` times, the contestants of a case taking turns (so drift on a shared machine hits them
 * alike). A process warms up, then reports the median of several timed batches; the table shows the
 * median over processes, and ratios between medians of this same run. The whole outcome is also written
 * as JSON (bench/results.json, or --out). --quick makes every case brief (smaller sizes, one process per
 * contestant) so a test can check the benchmarks still run; its numbers are not for quoting.
 *
 * Exit status: 0 when every case ran and every correctness check held; 1 otherwise. A goal that is not
 * met is reported, not an error.
 */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './lib/measure.js';
import { MARKER } from './child-protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = { quick: false, out: path.join(here, 'results.json'), only: null, runs: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--out') opts.out = path.resolve(value());
    else if (arg === '--only') opts.only = value().split(',');
    else if (arg === '--runs') {
      opts.runs = Number(value());
      if (!Number.isInteger(opts.runs) || opts.runs < 1) fail(`--runs needs a whole number of at least 1`);
    } else fail(`unknown argument ${JSON.stringify(arg)}`);
  }
  return opts;
}

function fail(message) {
  console.error(`bench: ${message}\nusage: node bench/run.js [--quick] [--out PATH] [--only CASE_ID[,...]] [--runs N]`);
  process.exit(2);
}

/** Runs one contestant in a fresh process and returns what it reported. */
function runChild(caseFile, variant, options) {
  return new Promise((resolve, reject) => {
    const args = [...(variant.nodeArgs ?? []), path.join(here, 'child.js'), caseFile, variant.key, JSON.stringify(options)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${variant.key} exited with ${signal ?? code}\n${stderr.trim() || stdout.trim()}`));
      } else resolve(JSON.parse(line.slice(MARKER.length)));
    });
  });
}

function round(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return Number(x.toFixed(digits));
}

/** Judges a goal against the medians of this run. */
function judge(goal, medians) {
  const value = medians.get(goal.variant);
  const limitText = `${goal.op === '<' ? 'under' : 'at most'} ${goal.limit}`;
  let measured;
  if (goal.against !== undefined) {
    const base = medians.get(goal.against);
    measured = value === undefined || base === undefined ? null : value / base;
  } else measured = value ?? null;
  // Judged on the figure shown, so that a value next to the limit never reads as met and not met at once.
  measured = round(measured);
  const met = measured !== null && (goal.op === '<' ? measured < goal.limit : measured <= goal.limit);
  const unit = goal.against !== undefined ? 'x' : ` ${goal.unit}`;
  return {
    text: goal.text,
    variant: goal.variant,
    against: goal.against ?? null,
    kind: goal.against !== undefined ? 'ratio' : 'absolute',
    measured,
    limit: goal.limit,
    op: goal.op,
    unit: goal.against !== undefined ? 'x' : goal.unit,
    met,
    line: `${met ? '[met]    ' : '[NOT MET]'} ${goal.text}: ${measured}${unit} (goal: ${limitText}${unit})`,
  };
}

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

function printCase(c) {
  console.log(`\n${c.id}. ${c.title}`);
  console.log(`   ${c.description}`);
  const w = Math.max(30, ...c.results.map((r) => r.label.length)) + 2;
  console.log(`   ${pad('contestant', w)}${pad('unit', 10)}${pad('median', 11, true)}${pad('min', 11, true)}${pad('max', 11, true)}${pad('ratio', 8, true)}`);
  const manyBases = new Set(c.results.map((r) => r.ratioTo).filter((k) => k !== null)).size > 1;
  for (const r of c.results) {
    const ratio = r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`;
    const vs = manyBases && r.ratioTo !== null ? `  vs ${r.ratioTo}` : '';
    console.log(
      `   ${pad(r.label, w)}${pad(r.unit, 10)}${pad(r.median, 11, true)}${pad(r.min, 11, true)}${pad(r.max, 11, true)}${pad(ratio, 8, true)}${vs}`,
    );
  }
  const label = (key) => c.results.find((r) => r.variant === key)?.label;
  const bases = [...new Set(c.results.map((r) => r.ratioTo).filter((k) => k !== null))];
  if (bases.length === 1) console.log(`   ratio = median / median of "${label(bases[0])}"`);
  else if (bases.length > 1) console.log(`   ratio = median / median of the contestant named after "vs" (its key)`);
  for (const g of c.goals) console.log(`   ${g.line}`);
  // One line per check over all runs: the first failure's detail, or the last run's.
  const byName = new Map();
  for (const k of c.checks) byName.set(k.name, [...(byName.get(k.name) ?? []), k]);
  for (const [name, ks] of byName) {
    const failed = ks.filter((k) => !k.passed);
    const shown = failed[0] ?? ks.at(-1);
    const runsText = ks.length > 1 ? ` (${ks.length - failed.length} of ${ks.length} runs passed)` : '';
    console.log(`   ${failed.length === 0 ? '[check passed]' : '[CHECK FAILED]'} ${name}${runsText}: ${shown.detail}`);
  }
  for (const n of c.notes) console.log(`   note: ${n}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const runs = opts.runs ?? (opts.quick ? 1 : 5);
  const timing = opts.quick
    ? { warmupMs: 30, sampleMs: 10, samples: 3 }
    : { warmupMs: 300, sampleMs: 100, samples: 7 };
  const caseDir = path.join(here, 'cases');
  const files = readdirSync(caseDir)
    .filter((f) => f.endsWith('.js'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

  if (opts.only) {
    const ids = files.map((f) => f.split('-')[0]);
    const unknown = opts.only.filter((id) => !ids.includes(id));
    if (unknown.length > 0) fail(`--only names no case ${unknown.join(', ')}; the cases are ${ids.join(', ')}`);
  }

  const started = Date.now();
  const cpus = os.cpus();
  const result = {
    schema: 1,
    date: new Date().toISOString(),
    quick: opts.quick,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    runs,
    timing,
    cases: [],
    goals: [],
    checksPassed: true,
    failures: [],
    seconds: 0,
  };
  console.log(
    `extpoint benchmarks ${opts.quick ? '(QUICK: brief, small sizes; not for quoting) ' : ''}` +
      `${result.date}, Node ${result.node}, ${result.platform}, ${result.cpus} cores (${result.cpuModel}), ` +
      `${runs} process${runs > 1 ? 'es' : ''} per contestant`,
  );

  for (const file of files) {
    const caseFile = path.join(caseDir, file);
    const mod = await import(pathToFileURL(caseFile).href);
    if (opts.only && !opts.only.includes(mod.id)) continue;
    // A case may size its contestants and goals by the mode (--quick runs smaller sizes).
    const spec = {
      ...mod,
      variants: typeof mod.variants === 'function' ? mod.variants({ quick: opts.quick }) : mod.variants,
      goals: typeof mod.goals === 'function' ? mod.goals({ quick: opts.quick }) : mod.goals,
    };
    const context = spec.prepare ? await spec.prepare({ quick: opts.quick }) : {};
    const options = { quick: opts.quick, ...timing, ...context };
    const values = new Map(spec.variants.map((v) => [v.key, []]));
    const extras = new Map(spec.variants.map((v) => [v.key, []]));
    const checks = [];
    const caseRuns = spec.runs ? spec.runs({ runs, quick: opts.quick }) : runs;
    try {
      for (let r = 0; r < caseRuns; r++) {
        for (const variant of spec.variants) {
          if (variant.sameAs !== undefined || variant.from !== undefined) continue;
          let outcome;
          try {
            outcome = await runChild(caseFile, variant, options);
          } catch (err) {
            result.failures.push(`${spec.id} ${variant.key}: ${err.message}`);
            console.error(`bench: case ${spec.id}, contestant ${variant.key} failed: ${err.message}`);
            continue;
          }
          values.get(variant.key).push(outcome.value);
          if (outcome.extra) extras.get(variant.key).push(outcome.extra);
          for (const check of outcome.checks ?? []) {
            checks.push({ ...check, variant: variant.key, run: r + 1, name: `${variant.label}: ${check.name}` });
          }
        }
      }
    } finally {
      if (spec.cleanup) await spec.cleanup(context);
    }

    // A contestant shown twice (against two references) is measured once.
    for (const v of spec.variants) if (v.sameAs !== undefined) values.set(v.key, values.get(v.sameAs));
    // A row derived from another contestant's runs: one figure of its extra (a 95th percentile, say).
    for (const v of spec.variants) {
      if (v.from !== undefined) values.set(v.key, extras.get(v.from).map((e) => e[v.field]));
    }
    const medians = new Map();
    for (const [key, vs] of values) if (vs.length > 0) medians.set(key, median(vs));
    const entry = {
      id: spec.id,
      title: spec.title,
      description: spec.description,
      baseline: spec.baseline ?? null,
      results: spec.variants.map((v) => {
        const vs = values.get(v.key);
        const m = medians.get(v.key);
        const baseKey = v.ratioTo ?? spec.baseline;
        const base = baseKey ? medians.get(baseKey) : undefined;
        return {
          variant: v.key,
          label: v.label,
          unit: v.unit ?? spec.unit,
          median: round(m ?? null),
          min: vs.length ? round(Math.min(...vs)) : null,
          max: vs.length ? round(Math.max(...vs)) : null,
          values: vs.map(round),
          ratioTo: base !== undefined && m !== undefined ? baseKey : null,
          ratio: base !== undefined && m !== undefined ? m / base : null,
          extra: extras.get(v.key).at(-1) ?? null,
        };
      }),
      goals: (spec.goals ?? []).map((g) => judge(g, medians)),
      checks,
      notes: spec.notes ?? [],
    };
    for (const r of entry.results) if (r.ratio !== null) r.ratio = Number(r.ratio.toFixed(3));
    for (const check of checks) if (!check.passed) result.checksPassed = false;
    result.cases.push(entry);
    result.goals.push(...entry.goals.map((g) => ({ case: spec.id, ...g })));
    printCase(entry);
  }

  result.seconds = Math.round((Date.now() - started) / 100) / 10;
  const met = result.goals.filter((g) => g.met).length;
  console.log(`\nGoals: ${met} of ${result.goals.length} met.`);
  for (const g of result.goals.filter((g) => !g.met)) console.log(`  not met (case ${g.case}): ${g.line.replace(/^\[NOT MET\] /, '')}`);
  for (const f of result.failures) console.log(`  FAILED: ${f.split('\n')[0]}`);
  console.log(`Correctness checks: ${result.checksPassed ? 'all passed' : 'SOME FAILED'}. ${result.seconds} s in all.`);
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  console.log(`Results written to ${opts.out}`);
  if (!result.checksPassed || result.failures.length > 0) process.exitCode = 1;
}

await main();
