/** Replacing a file the way careful tools do: write a temp name in the same folder, then rename over it. */
import { writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

let serial = 0;

export function atomicWrite(file, text) {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++serial}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/**
 * Resolves with the milliseconds from `t0` (hrtime bigint) to the first moment `answers()` is true. It
 * checks on every event named in `events` of `emitter` and on a 1 ms interval, whichever comes first;
 * rejects after `timeoutMs`.
 */
export function waitUntil(answers, { t0, emitter, events = [], timeoutMs = 10_000 }) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(limit);
      for (const e of events) emitter.off(e, check);
      if (err) reject(err);
      else resolve(value);
    };
    function check() {
      if (!done && answers()) finish(null, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const poll = setInterval(check, 1);
    const limit = setTimeout(() => finish(new Error(`no new version answered within ${timeoutMs} ms`)), timeoutMs);
    for (const e of events) emitter.on(e, check);
    check();
  });
}
