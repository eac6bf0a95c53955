/**
 * A cheap look at how deeply an ES module's source nests brackets, taken before the source is handed to
 * esbuild. esbuild's parser recurses once per level and its scope handling grows with the square of the
 * depth: a file nested tens of thousands of levels deep stalls the host for seconds, and a few hundred
 * thousand levels kill the transform service (it is then restarted, see the loader). No real module comes
 * near the limit; V8 itself refuses to compile a few thousand nested blocks.
 *
 * The scan skips comments, quoted strings and the text of template literals (code inside `${}` counts).
 * Regular expression literals are read as code: a bracket inside one shifts the count by one, which only
 * matters for a file that is at the limit anyway.
 */

/** The deepest bracket nesting an ES module plugin file may have. */
export const MAX_NESTING = 1_000;

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);
/** Marks, on the stack, a `${` that returns to template text when closed. */
const TEMPLATE_CODE = '$';
/** Marks, on the stack, the text of a template literal. */
const TEMPLATE_TEXT = '`';

/**
 * The nesting depth of `source`, stopping as soon as it passes `limit` (so a hostile file costs one pass
 * over its first part). Returns a number greater than `limit` when the limit is passed.
 */
export function nestingDepth(source: string, limit = MAX_NESTING): number {
  const stack: string[] = [];
  let deepest = 0;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source[i]!;
    if (stack[stack.length - 1] === TEMPLATE_TEXT) {
      if (c === '\\') i++;
      else if (c === '`') stack.pop();
      else if (c === '$' && source[i + 1] === '{') {
        i++;
        stack.push(TEMPLATE_CODE);
        if (stack.length > deepest && (deepest = stack.length) > limit) return deepest;
      }
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i + 2);
      i = end < 0 ? n : end;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === '"' || c === "'") {
      i = endOfQuoted(source, i, c);
    } else if (c === '`') {
      stack.push(TEMPLATE_TEXT);
      if (stack.length > deepest && (deepest = stack.length) > limit) return deepest;
    } else if (OPEN.has(c)) {
      stack.push(c);
      if (stack.length > deepest && (deepest = stack.length) > limit) return deepest;
    } else if (CLOSE.has(c)) {
      // Unbalanced closers are the parser's to report; here they only never go below the outermost level.
      if (stack.length > 0 && stack[stack.length - 1] !== TEMPLATE_TEXT) stack.pop();
    }
  }
  return deepest;
}

/** The index of the quote that ends the string opened at `start` (or of the line end, for a broken one). */
function endOfQuoted(source: string, start: number, quote: string): number {
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === quote || c === '\n') return i;
  }
  return source.length;
}
