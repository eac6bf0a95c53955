/**
 * Module hooks (run by Node in its hooks thread) that report the URL of every ES module file loaded, so
 * that `start()` can find extension points and plugins in ES modules as it does in `require.cache`.
 * Loading itself is left to Node untouched.
 */
import type { MessagePort } from 'node:worker_threads';

let port: MessagePort | undefined;

export function initialize(data: { port: MessagePort }): void {
  port = data.port;
  // Answers a flush request once every URL reported before it has been sent (the port keeps order).
  port.on('message', (message: unknown) => {
    if (message === 'flush') port!.postMessage('flushed');
  });
  port.unref();
}

interface LoadResult {
  format?: string | null;
}

export async function load(
  url: string,
  context: unknown,
  nextLoad: (url: string, context: unknown) => Promise<LoadResult>,
): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (result.format === 'module' && url.startsWith('file:') && !url.includes('/node_modules/')) {
    port?.postMessage(url);
  }
  return result;
}
