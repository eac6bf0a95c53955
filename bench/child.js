/**
 * Runs one contestant of one case in this fresh process and prints its outcome as one JSON line after
 * the marker `BENCH_RESULT `. Started by run.js as `node child.js <case file> <variant key> <options JSON>`.
 */
import { pathToFileURL } from 'node:url';

import { MARKER } from './child-protocol.js';

const [file, key, json] = process.argv.slice(2);
const benchCase = await import(pathToFileURL(file).href);
const outcome = await benchCase.run(key, JSON.parse(json));
process.stdout.write(`\n${MARKER}${JSON.stringify(outcome)}\n`);
// Watchers or timers a case left behind must not keep the child alive.
process.exit(0);
