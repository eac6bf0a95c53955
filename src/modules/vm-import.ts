/**
 * How plugin code compiled by the loader reaches Node's `import()`: with
 * `vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`, the only public way for code from `vm.compileFunction`
 * to import at all without `--experimental-vm-modules`. Node 20 marks that constant experimental and
 * prints an `ExperimentalWarning` the first time any such code calls `import()` (Node keeps a set of the
 * experimental features it has warned about, and warns about each once per process). For a host that is
 * extpoint's choice, not the user's, so the first compile triggers that one warning itself and lets no
 * other through its hands: during one synchronous step `process.emitWarning` drops exactly that message,
 * and is put back before anything else can run. Every other warning, the host's own included, is printed
 * as before.
 */
import vm from 'node:vm';

/** What plugin code is compiled with, so that `import()` in it goes to Node's own loader. */
export const IMPORT_OPTIONS = { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER };

const MESSAGE = 'vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is an experimental feature';
let settled = false;

/** Spends Node's one warning about the constant, silently; later `import()`s in plugin code print nothing. */
export function quietVmImport(): void {
  if (settled) return;
  settled = true;
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (typeof text === 'string' && text.startsWith(MESSAGE)) return;
    (emit as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    // Node asks its loader synchronously inside import(): the warning is emitted before this returns.
    const probe = vm.compileFunction('return import("node:vm")', [], IMPORT_OPTIONS) as () => Promise<unknown>;
    probe().catch(() => {});
  } catch {
    // A Node without the warning, or without the constant: nothing to spend.
  } finally {
    process.emitWarning = emit;
  }
}
