/**
 * The one check of options objects: a key that is not one of the known ones is a TypeError naming it and
 * the nearest known key, so that `pluginDir` or `timeout` is not silently ignored.
 */
import { describe } from './naming.js';

/**
 * Throws a TypeError when `options` is not an object or has an own key not in `known`. `what` names the
 * options in the message: `'createExtension options'`, `'call options'`.
 */
export function checkOptions(what: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`extpoint: ${what} must be an object with keys among ${known.join(', ')}, not ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw unknownOption(what, key, known);
  }
}

/** The TypeError for `key`, not one of `known`: it names the nearest known key, or lists them all. */
export function unknownOption(what: string, key: string, known: readonly string[]): TypeError {
  const near = nearest(key, known);
  const hint = near !== null ? `did you mean "${near}"?` : `the options are ${known.join(', ')}`;
  return new TypeError(`extpoint: unknown option ${describe(key)} in ${what}; ${hint}`);
}

/** The known key closest to `key` (letter case ignored), when it is close enough to be a likely typo. */
export function nearest(key: string, known: readonly string[]): string | null {
  const typed = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    let d = editDistance(typed, lower);
    // A prefix (`timeout` of `timeoutMs`) is as likely as one typo.
    if (lower.startsWith(typed) || typed.startsWith(lower)) d = Math.min(d, 1);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.max(1, Math.floor(Math.max(typed.length, 3) / 3));
  return bestDistance <= allowed ? best : null;
}

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}
