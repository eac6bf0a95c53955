/**
 * The main thread's side of `extpoint/register`: the URLs of the ES modules loaded so far, shared by every
 * copy of extpoint in the process, and a way to wait until the hooks thread has reported all it has seen.
 */
import type { MessagePort } from 'node:worker_threads';
import { createRequire } from 'node:module';

type Listener = (url: string) => void;

export class EsmRecorder {
  readonly urls = new Set<string>();
  private port: MessagePort | null = null;
  private readonly listeners = new Set<Listener>();
  private flushes: Array<() => void> = [];

  attach(port: MessagePort): void {
    this.port = port;
    port.on('message', (message: unknown) => {
      if (message === 'flushed') {
        this.flushes.shift()?.();
        if (this.flushes.length === 0) port.unref();
        return;
      }
      if (typeof message !== 'string' || this.urls.has(message)) return;
      this.urls.add(message);
      for (const listener of this.listeners) listener(message);
    });
    port.unref();
  }

  /** True when `extpoint/register` is active in this process. */
  get active(): boolean {
    return this.port !== null;
  }

  /** Resolves once every URL the hooks thread has reported until now has arrived (at most `ms` later). */
  flush(ms = 1000): Promise<void> {
    const port = this.port;
    if (port === null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.flushes.push(done);
      port.ref();
      port.postMessage('flush');
    });
  }

  /** Calls `listener` for every URL that arrives from now on; returns the way to stop. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const KEY = Symbol.for('extpoint.esmRecorder');

/** The process-wide recorder. */
export function esmRecorder(): EsmRecorder {
  const g = globalThis as { [KEY]?: EsmRecorder };
  return (g[KEY] ??= new EsmRecorder());
}

/** The code of the warning given when loaded ES modules cannot be scanned. */
export const ESM_UNSCANNED = 'EXTPOINT_ESM_UNSCANNED';
const WARNED = Symbol.for('extpoint.esmUnscannedWarned');
const NODE = createRequire(import.meta.url);

/**
 * Warns once per process (a `process.emitWarning` of type `ExtpointWarning` and code
 * `EXTPOINT_ESM_UNSCANNED`) that ES modules cannot be scanned, when they surely were loaded (the main
 * module is one) and `extpoint/register` is not active. Says how to fix it.
 */
export function warnIfEsmUnscanned(): void {
  const g = globalThis as { [WARNED]?: boolean };
  if (g[WARNED] === true || esmRecorder().active || !mainIsEsModule()) return;
  g[WARNED] = true;
  process.emitWarning(
    'extpoint cannot see the ES modules this process has loaded (its main module is one), so start() finds ' +
      'no points or plugins in them. Run node with --import extpoint/register (node --import extpoint/register ' +
      'app.js), or give each such module to registerModule (extension.registerModule("audit", await ' +
      'import("./audit.js"))). Plugin folders are scanned either way.',
    { type: 'ExtpointWarning', code: ESM_UNSCANNED },
  );
}

/** True when the process runs a main file that is an ES module (CommonJS mains set `require.main`). */
function mainIsEsModule(): boolean {
  return process.argv[1] !== undefined && NODE.main === undefined;
}
