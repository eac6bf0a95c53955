/**
 * Text for an operator's terminal: whether a stream takes colour (Node's own rules: FORCE_COLOR, NO_COLOR,
 * NODE_DISABLE_COLORS, TERM=dumb and the terminal's colour depth, through the stream's `hasColors()`),
 * styles written with Node's `util.styleText`, and the small layout helpers of the text report.
 */
import { styleText } from 'node:util';
import { WriteStream } from 'node:tty';

/** A style of `util.styleText`. */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow';

/**
 * Whether output to `stream` should be coloured, as Node decides for its own output: FORCE_COLOR decides
 * when set (`0` or `false` turns colour off, even on a terminal; anything else turns it on, even into a
 * pipe); otherwise only a terminal whose `hasColors()` says so, which is false under NO_COLOR,
 * NODE_DISABLE_COLORS or TERM=dumb.
 */
export function colorsFor(stream: object): boolean {
  if (process.env.FORCE_COLOR !== undefined) return WriteStream.prototype.hasColors();
  const tty = stream as Partial<Pick<WriteStream, 'isTTY' | 'hasColors'>>;
  return tty.isTTY === true && typeof tty.hasColors === 'function' && tty.hasColors();
}

/** A function that styles text with `style`, or leaves it as it is when colour is off. */
export function painter(color: boolean, style: Style): (text: string) => string {
  return color ? (text) => styleText(style, text, { validateStream: false }) : (text) => text;
}

/** `1 plugin`, `2 plugins`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Lines of a table: columns padded to their widest cell, the `rightAligned` ones (by index) to the right. */
export function table(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
