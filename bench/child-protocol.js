/** What a benchmark child prints before its JSON outcome line, so run.js can find it among other output. */
export const MARKER = 'BENCH_RESULT ';
