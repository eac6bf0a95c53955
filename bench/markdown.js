// Renders a results file of `npm run bench` as the Markdown tables of the README's Performance section,
// so the README quotes a run exactly: `node bench/markdown.js [bench/results.json]`.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'bench/results.json';
let results;
try {
  results = JSON.parse(readFileSync(path, 'utf8'));
} catch (err) {
  console.error(`bench/markdown: cannot read ${path} (${err.message}); run npm run bench first, or name a results file`);
  process.exit(2);
}

const number = (v) => (v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const byVariant = (c) => new Map(c.results.map((r) => [r.variant, r]));
const out = [];
const met = results.goals.filter((g) => g.met).length;
out.push(
  `Run on ${results.date.slice(0, 16).replace('T', ' ')} UTC: Node ${results.node}, ${results.platform}, ` +
    `${results.cpus} cores (${results.cpuModel}); ${results.runs} processes per contestant, ` +
    `${Math.round(results.seconds)} s in all; ${met} of ${results.goals.length} goals met; ` +
    `correctness checks ${results.checksPassed ? 'all passed' : 'FAILED'}.`,
  '',
);
for (const c of results.cases) {
  const variants = byVariant(c);
  out.push(`**${c.id}. ${c.title}.** ${c.description}`, '');
  out.push('| contestant | median | min | max | ratio |', '|---|--:|--:|--:|--:|');
  for (const r of c.results) {
    const base = r.ratioTo && variants.get(r.ratioTo);
    const ratio = r.ratio === undefined || r.ratio === null ? '' : `${r.ratio.toFixed(2)}x${base && base.variant !== c.baseline ? ` of ${base.label}` : ''}`;
    out.push(`| ${r.label} | ${number(r.median)} ${r.unit} | ${number(r.min)} | ${number(r.max)} | ${ratio} |`);
  }
  out.push('');
}
out.push('Goals:', '');
for (const g of results.goals) out.push(`- ${g.met ? 'met' : '**not met**'}: ${g.text}: ${g.measured}${g.unit === 'x' ? 'x' : ` ${g.unit}`}`);
console.log(out.join('\n'));
