/**
 * Whether a package's plugin files loaded: through a running extension (its load, reload and loadError
 * events for those files, awaited with a deadline), or through a check function run on the staged
 * folder before it is switched in (the CLI passes one that loads the files in a child process).
 */
import { sep } from 'node:path';

/** A load problem as the extension and the check report it. */
export interface LoadProblem {
  module?: string;
  file?: string;
  message: string;
}

/**
 * What the installer needs of a running extension: its load events. An `Extension` from `extpoint`
 * (created with `pluginDirs` that include the install folder, and `watch: true`) fits.
 */
export interface LoadEvents {
  on(event: 'load' | 'reload', listener: (event: { module: string; file?: string }) => void): unknown;
  on(event: 'loadError', listener: (error: LoadProblem) => void): unknown;
  off(event: 'load' | 'reload', listener: (event: { module: string; file?: string }) => void): unknown;
  off(event: 'loadError', listener: (error: LoadProblem) => void): unknown;
}

/** How long to wait for the extension to load a new version, by default: generous, as watchers can be slow. */
export const DEFAULT_LOAD_DEADLINE_MS = 30_000;

/**
 * Starts listening for the loads of `files` (absolute paths) and of anything else below `folder`; the
 * returned function waits until every file loaded (resolves with no problem), one failed (resolves with
 * its problems), or `deadlineMs` passed (a problem saying so). Listen before switching the files in.
 */
export function awaitLoads(ext: LoadEvents, folder: string, files: string[], deadlineMs: number): () => Promise<LoadProblem[]> {
  const waiting = new Set(files);
  const problems: LoadProblem[] = [];
  let settle: (() => void) | undefined;
  const inside = (file: string | undefined) => file !== undefined && (file.startsWith(folder + sep) || waiting.has(file));
  const onLoad = (event: { module: string; file?: string }) => {
    if (event.file !== undefined && waiting.delete(event.file) && waiting.size === 0) settle?.();
  };
  const onError = (error: LoadProblem) => {
    if (!inside(error.file)) return;
    problems.push(error);
    settle?.();
  };
  ext.on('load', onLoad);
  ext.on('reload', onLoad);
  ext.on('loadError', onError);
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (waiting.size > 0 && problems.length === 0) {
        await new Promise<void>((done) => {
          settle = done;
          timer = setTimeout(() => {
            problems.push({
              message:
                `the extension did not load ${[...waiting].join(', ')} within ${deadlineMs} ms; is the install folder one of its ` +
                `pluginDirs, watched (watch: true), and does each plugin file export a _Plugin function?`,
            });
            done();
          }, deadlineMs);
        });
      }
      return problems;
    } finally {
      clearTimeout(timer);
      ext.off('load', onLoad);
      ext.off('reload', onLoad);
      ext.off('loadError', onError);
    }
  };
}
