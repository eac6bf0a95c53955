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

/** What the stack holds for each open level: a bracket, a `${` inside a template, or a template's text. */
const CODE = 0;
const TEMPLATE_CODE = 1;
const TEMPLATE_TEXT = 2;

const BACKSLASH = 0x5c;
const BACKTICK = 0x60;
const DOLLAR = 0x24;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;

/**
 * The nesting depth of `source`, stopping as soon as it passes `limit` (so a hostile file costs one pass
 * over its first part). Returns a number greater than `limit` when the limit is passed.
 */
export function nestingDepth(source: string, limit = MAX_NESTING): number {
  const stack: number[] = [];
  let deepest = 0;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source.charCodeAt(i);
    if (stack.length > 0 && stack[stack.length - 1] === TEMPLATE_TEXT) {
      if (c === BACKSLASH) i++;
      else if (c === BACKTICK) stack.pop();
      else if (c === DOLLAR && source.charCodeAt(i + 1) === 0x7b) {
        i++;
        stack.push(TEMPLATE_CODE);
        if (stack.length > deepest && (deepest = stack.length) > limit) return deepest;
      }
      continue;
    }
    switch (c) {
      case SLASH: {
        const next = source.charCodeAt(i + 1);
        if (next === SLASH) {
          const end = source.indexOf('\n', i + 2);
          i = end < 0 ? n : end;
        } else if (next === STAR) {
          const end = source.indexOf('*/', i + 2);
          i = end < 0 ? n : end + 1;
        }
        break;
      }
      case QUOTE:
      case APOSTROPHE:
        i = endOfQuoted(source, i, c);
        break;
      case BACKTICK:
        stack.push(TEMPLATE_TEXT);
        if (stack.length > deepest && (deepest = stack.length) > limit) return deepest;
        break;
      case 0x28: // (
      case 0x5b: // [
      case 0x7b: // {
        stack.push(CODE);
        if (stack.length > deepest && (deepest = stack.length) > limit) return deepest;
        break;
      case 0x29: // )
      case 0x5d: // ]
      case 0x7d: // }
        // A `}` that closes a `${` returns to the template's text; unbalanced closers are the parser's to report.
        if (stack.length > 0) stack.pop();
        break;
    }
  }
  return deepest;
}

/** The index of the quote that ends the string opened at `start` (or of the line end, for a broken one). */
function endOfQuoted(source: string, start: number, quote: number): number {
  for (let i = start + 1; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === quote || c === NEWLINE) return i;
  }
  return source.length;
}
