/** Waiting in tests, and failing a test when a rejection goes unhandled while it runs. */
import { expect } from 'vitest';

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Fails the test if a rejection goes unhandled while `body` runs (and a little after). */
export async function noUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await sleep(20);
  } finally {
    process.off('unhandledRejection', listener);
  }
  expect(seen).toEqual([]);
}
