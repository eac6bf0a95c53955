/**
 * Case 4: `pipe` threading a number through 10 sync steps, against tapable's SyncWaterfallHook (sync, no
 * isolation: a throwing tap throws out of the call) and AsyncSeriesWaterfallHook (awaited, like pipe), and
 * a floor: generated straight-line code with a try/catch and counter per step, returning a promise.
 */
import tapable from 'tapable';
import { measure } from '../lib/measure.js';
import { pipeSteps, extensionWith } from '../lib/fixtures.js';

const STEPS = 10;
/** Each step i adds i: 0 + 1 + ... + 9. */
const EXPECTED_GAIN = (STEPS * (STEPS - 1)) / 2;

export const id = '4';
export const title = 'pipe, 10 sync steps';
export const description = 'one state threaded through 10 sync plugins; extpoint isolates each step and counts';
export const unit = 'ns/call';
export const baseline = 'tapableSync';

export const variants = [
  { key: 'pipe', label: 'extpoint pipe (awaited)' },
  { key: 'pointPipe', label: 'extpoint point().pipe (awaited)' },
  { key: 'floor', label: 'floor: generated code + promise' },
  { key: 'tapableSync', label: 'tapable SyncWaterfallHook.call' },
  { key: 'tapableAsync', label: 'tapable AsyncSeriesWaterfallHook' },
];

/** Straight-line steps with a try/catch and ok/exit counters each; a failure returns the input. */
function pipeFloor(fns) {
  const c = fns.map(() => ({ ok: 0, exit: 0 }));
  const body = fns
    .map((_, i) => `try { s = f${i}(s); c${i}.ok++; } catch (e) { c${i}.exit++; return Promise.resolve(input); }`)
    .join('\n');
  const bind = fns.map((_, i) => `f${i} = F[${i}], c${i} = C[${i}]`).join(', ');
  return new Function('F', 'C', `'use strict'; const ${bind};\nreturn function pipe(input) { let s = input;\n${body}\nreturn Promise.resolve(s); };`)(fns, c);
}

function contestant(key) {
  const fns = pipeSteps(STEPS);
  switch (key) {
    case 'pipe': {
      const ext = extensionWith(fns);
      return { call: (s) => ext.pipe('host', 'p', s), async: true };
    }
    case 'pointPipe': {
      const point = extensionWith(fns).point('host', 'p');
      return { call: (s) => point.pipe(s), async: true };
    }
    case 'floor':
      return { call: pipeFloor(fns), async: true };
    case 'tapableSync': {
      const hook = new tapable.SyncWaterfallHook(['s']);
      fns.forEach((fn, i) => hook.tap(`step${i}`, fn));
      return { call: (s) => hook.call(s), async: false };
    }
    case 'tapableAsync': {
      const hook = new tapable.AsyncSeriesWaterfallHook(['s']);
      fns.forEach((fn, i) => hook.tap(`step${i}`, fn));
      return { call: (s) => hook.promise(s), async: true };
    }
    default:
      throw new Error(`case 4 has no contestant ${key}`);
  }
}

export async function run(key, opts) {
  const { call, async } = contestant(key);
  const out = await call(1);
  if (out !== 1 + EXPECTED_GAIN) throw new Error(`${key} piped 1 to ${out}, not ${1 + EXPECTED_GAIN}`);
  let s = 0;
  const m = await measure(() => call((s = (s + 1) & 1023)), { ...opts, async });
  return { value: m.nsPerOp, extra: { samples: m.samples, batch: m.batch } };
}
