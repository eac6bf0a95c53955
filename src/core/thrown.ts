/**
 * Describing what a plugin threw, for load errors and messages. A thrown value is plugin data and may be
 * hostile: an error whose `message`, `name` or `stack` getter throws, an object whose `toString` throws, a
 * Proxy whose every trap throws the Proxy itself. Nothing here lets such a value escape: every look at it
 * is guarded, and what cannot be read is described by its type alone.
 */

/** How much of a thrown value's text is kept: the history of load errors stays small whatever is thrown. */
export const THROWN_TEXT_MAX = 2_000;

/** A thrown value as one line of text. Never throws. */
export function errorText(err: unknown): string {
  return clip(rawText(err));
}

/** The `stack` of an `Error`, or '' when there is none or it cannot be read. Never throws. */
export function errorStack(err: unknown): string {
  try {
    if (!(err instanceof Error)) return '';
    const stack = err.stack;
    return typeof stack === 'string' ? stack : '';
  } catch {
    return '';
  }
}

function rawText(err: unknown): string {
  if (typeof err === 'string') return err;
  try {
    if (err instanceof Error) {
      const message = err.message;
      if (typeof message === 'string') return message;
    }
  } catch {
    return unreadable(err, 'its message cannot be read');
  }
  try {
    return String(err);
  } catch {
    return unreadable(err, 'it throws when turned into text');
  }
}

/** What is said of a value that cannot be read: its type only (`typeof` never runs plugin code). */
function unreadable(err: unknown, why: string): string {
  return `a thrown ${typeof err === 'function' ? 'function' : 'object'} that cannot be described (${why})`;
}

function clip(text: string): string {
  return text.length > THROWN_TEXT_MAX ? text.slice(0, THROWN_TEXT_MAX) + '…' : text;
}
