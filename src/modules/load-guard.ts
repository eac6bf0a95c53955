/**
 * A way for a watching process to follow plugin-file loads: told before and after each plugin file's
 * top-level code runs, and able to refuse a file instead. `extpoint check` uses it from a child process,
 * so that a file that ends that process is known by name.
 */
import type { Loader, LoadResult } from './loader.js';

/** Told before and after each plugin file loads; `loading` may refuse the file, with the reason as its load error. */
export interface LoadGuard {
  loading(file: string): string | null;
  loaded(file: string): void;
}

/** The key under which `createExtension`'s options may carry a `LoadGuard`; internal to extpoint. */
export const LOAD_GUARD: unique symbol = Symbol('extpoint.loadGuard');

/** Loads `file` with `loader`, unless `guard` refuses it; the guard hears when the load starts and ends. */
export function guardedLoad(loader: Loader, guard: LoadGuard | undefined, file: string): LoadResult {
  if (guard === undefined) return loader.load(file);
  const refused = guard.loading(file);
  if (refused !== null) {
    loader.noteRefused(file);
    return { ok: false, message: refused, file, touched: new Set() };
  }
  try {
    return loader.load(file);
  } finally {
    guard.loaded(file);
  }
}
