/**
 * The worker's end of its sync channel (see sync-channel.ts): each batch runs synchronously, every plugin
 * with the same arguments; the answers are posted and the host, blocked in `Atomics.wait`, is woken. A
 * plugin that returns a thenable is answered as in process (`EASYNC`, its outcome silenced). When the
 * worker exits (`process.exit()`, an uncaught error), the host is woken too and told the exit code.
 */
import type { PluginFn } from '../calls/slot.js';
import type { CrossingCall } from '../calls/crossing.js';
import { isThenable } from '../calls/target.js';
import { silence } from '../calls/crossing.js';
import { ANSWERED, ASYNC_IN_SYNC, EXITING, EXIT_CODE, STATE, type SyncEnd, type SyncReply, type SyncRequest } from './sync-channel.js';
import { packThrown, unclonablePath } from './wire.js';

type Failure = NonNullable<SyncReply['failed']>[number];

/** Serves sync batches on `end`, finding each plugin's function with `find`. */
export function serveSync(end: SyncEnd, find: (module: string, fn: string) => PluginFn | undefined): void {
  const words = new Int32Array(end.state);
  const port = end.port;
  /** The batches the host sent, by number. */
  const batches = new Map<number, readonly CrossingCall[]>();
  const wake = (state: number) => {
    Atomics.store(words, STATE, state);
    Atomics.notify(words, STATE);
  };
  process.on('exit', (code) => {
    Atomics.store(words, EXIT_CODE, code);
    wake(EXITING);
  });
  port.on('message', (request: SyncRequest) => {
    const { args } = request;
    if (request.calls !== undefined) batches.set(request.b, request.calls);
    const calls = batches.get(request.b) ?? [];
    const data = new Array<unknown>(calls.length);
    let failed: Failure[] | null = null;
    for (let k = 0; k < calls.length; k++) {
      const { module, fn } = calls[k]!;
      let failure: Failure = null;
      try {
        const impl = find(module, fn);
        if (impl === undefined) {
          throw Object.assign(new Error(`plugin ${fn} of module ${module} is not loaded on this node`), { code: 'ENOPLUGIN' });
        }
        const d = impl(args);
        if (isThenable(d)) {
          silence(d);
          failure = ASYNC_IN_SYNC;
        } else data[k] = d;
      } catch (err) {
        failure = packThrown(err);
      }
      if (failure !== null) (failed ??= new Array<Failure>(calls.length).fill(null))[k] = failure;
    }
    reply(port, { id: request.id, data, failed });
    wake(ANSWERED);
  });
}

/** Posts the reply; an entry that cannot be cloned is replaced, alone, by an `EDATACLONE` error. */
function reply(port: SyncEnd['port'], message: SyncReply): void {
  try {
    port.postMessage(message);
    return;
  } catch {
    // one of them cannot cross: find which
  }
  const { data } = message;
  const failed = message.failed ?? new Array<Failure>(data.length).fill(null);
  for (let k = 0; k < data.length; k++) {
    const f = failed[k]!;
    try {
      structuredClone(f === null ? data[k] : f);
      continue;
    } catch (err) {
      const where = f === null ? unclonablePath(data[k], 'result') : f === ASYNC_IN_SYNC ? 'result' : 'value' in f ? unclonablePath(f.value, 'thrown value') : 'thrown value';
      const text = `${where} cannot cross to the host by structured clone: ${(err as Error).message}`;
      data[k] = undefined;
      failed[k] = { error: { name: 'Error', message: text, code: 'EDATACLONE' } };
    }
  }
  port.postMessage({ id: message.id, data, failed });
}
