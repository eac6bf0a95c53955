/**
 * The worker's end of its sync channel (see sync-channel.ts): each batch runs synchronously, every plugin
 * with the same arguments; the answers are posted and the host, blocked in `Atomics.wait`, is woken. A
 * plugin that returns a thenable is answered as in process (`EASYNC`, its outcome silenced). When the
 * worker exits (`process.exit()`, an uncaught error), the host is woken too and told the exit code.
 */
import type { PluginFn } from '../calls/slot.js';
import { isThenable } from '../calls/target.js';
import { silence } from '../calls/crossing.js';
import { ANSWERED, EXITING, EXIT_CODE, STATE, type SyncEnd, type SyncReply, type SyncRequest } from './sync-channel.js';
import { packThrown, unclonablePath } from './wire.js';

type Answer = SyncReply['answers'][number];

/** Serves sync batches on `end`, finding each plugin's function with `find`. */
export function serveSync(end: SyncEnd, find: (module: string, fn: string) => PluginFn | undefined): void {
  const words = new Int32Array(end.state);
  const port = end.port;
  const wake = (state: number) => {
    Atomics.store(words, STATE, state);
    Atomics.notify(words, STATE);
  };
  process.on('exit', (code) => {
    Atomics.store(words, EXIT_CODE, code);
    wake(EXITING);
  });
  port.on('message', (request: SyncRequest) => {
    const { calls, args } = request;
    const answers = new Array<Answer>(calls.length);
    for (let k = 0; k < calls.length; k++) {
      const { module, fn } = calls[k]!;
      try {
        const impl = find(module, fn);
        if (impl === undefined) {
          throw Object.assign(new Error(`plugin ${fn} of module ${module} is not loaded on this node`), { code: 'ENOPLUGIN' });
        }
        const data = impl(args);
        if (isThenable(data)) {
          silence(data);
          answers[k] = { ok: false, async: true };
        } else answers[k] = { ok: true, data };
      } catch (err) {
        answers[k] = { ok: false, error: packThrown(err) };
      }
    }
    reply(port, { id: request.id, answers });
    wake(ANSWERED);
  });
}

/** Posts the reply; an answer that cannot be cloned is replaced, alone, by an `EDATACLONE` error. */
function reply(port: SyncEnd['port'], message: SyncReply): void {
  try {
    port.postMessage(message);
    return;
  } catch {
    // one of them cannot cross: find which
  }
  const answers = message.answers.map((a): Answer => {
    try {
      structuredClone(a);
      return a;
    } catch (err) {
      const where = a.ok ? unclonablePath(a.data, 'result') : 'error' in a ? unclonablePath(a.error, 'thrown value') : 'result';
      const text = `${where} cannot cross to the host by structured clone: ${(err as Error).message}`;
      return { ok: false, error: { error: { name: 'Error', message: text, code: 'EDATACLONE' } } };
    }
  });
  port.postMessage({ id: message.id, answers });
}
