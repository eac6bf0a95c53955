/**
 * Timing loops for one contestant in one process.
 *
 * A contestant is a function `op()` that does one call of the thing measured and returns its result. The
 * loops store every result in a module-level sink, so V8 cannot drop the call as dead code, and they time
 * batches with `process.hrtime.bigint()`: warm-up first (so the optimising compiler has run), then a batch
 * size calibrated to last about `sampleMs`, then `samples` batches. The figure a process reports is the
 * median of its batches, in nanoseconds per op.
 */

/** Written by every loop iteration; read once at the end so the writes are observable. */
let sink;

/** The last value a loop produced, for a contestant that wants to check it. */
export function lastResult() {
  return sink;
}

/** The median of a list of numbers (the mean of the two middle ones for an even count). */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The value below which `p` percent of the values lie (nearest rank). */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

const now = () => process.hrtime.bigint();

function syncBatch(op, count) {
  const t0 = now();
  for (let i = 0; i < count; i++) sink = op();
  return Number(now() - t0);
}

async function asyncBatch(op, count) {
  const t0 = now();
  for (let i = 0; i < count; i++) sink = await op();
  return Number(now() - t0);
}

/**
 * Measures `op` (sync or awaited) and returns `{ nsPerOp, samples, batch }`: the median ns per op over the
 * samples, every sample's ns per op, and how many ops one sample made.
 */
export async function measure(op, { async = false, warmupMs = 300, sampleMs = 100, samples = 7 } = {}) {
  const batch = async ? (count) => asyncBatch(op, count) : (count) => Promise.resolve(syncBatch(op, count));
  // Warm-up: run growing batches until warmupMs have passed; the last batch size calibrates the samples.
  let count = 16;
  let spent = 0;
  let lastNs = 1;
  while (spent < warmupMs * 1e6) {
    lastNs = await batch(count);
    spent += lastNs;
    if (lastNs < (sampleMs * 1e6) / 4) count *= 2;
  }
  const perOp = lastNs / count;
  const size = Math.max(1, Math.round((sampleMs * 1e6) / perOp));
  const results = [];
  for (let s = 0; s < samples; s++) results.push((await batch(size)) / size);
  if (sink === Symbol.for('never')) console.log('unreachable');
  return { nsPerOp: median(results), samples: results, batch: size };
}
