/**
 * The loading half of `extpoint check`: plugin files are loaded in a child process (check-child.ts), never
 * in the command's own. That child says which file it is loading before each file's top-level code runs,
 * so when a file ends the process (`process.exit()`, a signal it sends itself), that file is known: it
 * becomes a problem of its own, and the folders are loaded again in a new child with that file refused.
 * One child in all when no file ends it; one more for each file that does. A file whose top-level code
 * does not finish within the load timeout (a busy loop, a synchronous wait) is handled the same way: the
 * child is killed and the file becomes a problem of its own.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the check prints from: the load errors, plugins and points of the loaded folders. */
export interface CheckResult {
  status: { loadErrors: { module?: string; file?: string; export?: string; message: string }[] };
  plugins: { module: string; fn: string; heldBy: string | null }[];
  points: { module: string; fn: string }[];
}

/** How one child ended: its result, or the file it was loading when it ended without one. */
interface ChildRun {
  result: CheckResult | undefined;
  loading: string | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the child was killed because `loading` ran past the load timeout. */
  timedOut: boolean;
}

/** How long one file's top-level code may run in `extpoint check` by default, in milliseconds. */
export const CHECK_LOAD_TIMEOUT_MS = 10_000;

const CHILD = fileURLToPath(new URL('./check-child.js', import.meta.url));

/**
 * Loads the plugin folders `dirs` in child processes and returns what they found; a file that ended its
 * child, or whose top-level code ran longer than `loadTimeoutMs`, is a load error of its own.
 *
 * @throws Error when a child ends without a result while no plugin file was loading.
 */
export async function checkFolders(dirs: string[], checkPermissions: boolean, loadTimeoutMs = CHECK_LOAD_TIMEOUT_MS): Promise<CheckResult> {
  const refused = new Map<string, string>();
  for (;;) {
    const run = await runChild(dirs, refused, checkPermissions, loadTimeoutMs);
    if (run.result !== undefined) return run.result;
    const how = run.signal !== null ? `by signal ${run.signal}` : `with exit status ${run.code}`;
    if (run.loading === undefined || refused.has(run.loading)) {
      throw new Error(`the process loading the plugin files ended ${how} while no plugin file was loading`);
    }
    refused.set(
      run.loading,
      run.timedOut
        ? `loading this file did not finish within ${loadTimeoutMs} ms: its top-level code loops or waits (in a host, that ` +
            `would hang the host; run such code on a worker node); the other files were checked without it`
        : `loading this file ended the process ${how}: a plugin file must not call process.exit() or end its process ` +
            `at its top level (in a host, that would end the host); the other files were checked without it`,
    );
  }
}

function runChild(dirs: string[], refused: Map<string, string>, checkPermissions: boolean, loadTimeoutMs: number): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const args = [CHILD, String(checkPermissions), JSON.stringify([...refused]), ...dirs];
    // The files' own output goes where the command's goes, as when a host loads them.
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    let result: CheckResult | undefined;
    let loading: string | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    // Restarted for each file that begins loading (a file that requires a helper: the helper's turn),
    // cleared when one finishes; when it fires, the file loading now is the one that hangs.
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, loadTimeoutMs);
    };
    let text = '';
    const channel = child.stdio[3] as NodeJS.ReadableStream;
    channel.setEncoding('utf8');
    channel.on('data', (chunk: string) => {
      text += chunk;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
        const message = JSON.parse(text.slice(0, end)) as { loading?: string; loaded?: string; result?: CheckResult };
        text = text.slice(end + 1);
        if (message.loading !== undefined) {
          loading = message.loading;
          watch();
        } else if (message.loaded !== undefined) {
          loading = undefined;
          clearTimeout(timer);
        }
        else if (message.result !== undefined) result = message.result;
      }
    });
    child.once('error', fail);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ result, loading, code, signal, timedOut });
    });
  });
}
