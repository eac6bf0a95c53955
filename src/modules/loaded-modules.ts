/**
 * The walk over modules Node has already loaded (CommonJS from `require.cache`, ES modules recorded by
 * `extpoint/register`): each one that declares points or plugins is installed with origin `loaded`, and
 * those that left since the last walk are removed. ES modules loaded later are taken as they arrive.
 */
import { pathToFileURL, fileURLToPath } from 'node:url';
import { declaresAnything, errorText, isExportsLike, readExports } from '../core/declarations.js';
import { isModuleName, moduleNameProblem, quoteName } from '../core/naming.js';
import type { LoadError } from '../core/history.js';
import type { ModuleOrigin } from '../registry/registry.js';
import { loadedCommonJs, moduleNameOf, isForeign } from './scanner.js';
import { esmRecorder } from './esm-recorder.js';

/** What the walk needs of the registry and the extension that owns it. */
export interface LoadedModulesHost {
  /** The registered module of that name: where it came from and its file. */
  record(name: string): { origin: ModuleOrigin; file?: string | undefined } | undefined;
  /** Every registered module that came from Node's loaded modules. */
  loadedRecords(): { name: string; file?: string | undefined }[];
  /** Reads and installs a module: `helper` when it declares nothing. */
  adopt(name: string, exports: object, file: string): 'helper' | 'installed' | 'failed';
  uninstall(name: string): boolean;
  loadError(error: Omit<LoadError, 'at'>): void;
  /** False once the extension stopped: late CommonJS modules are then left alone. */
  started(): boolean;
}

export class LoadedModules {
  private stopEsm: (() => void) | null = null;

  constructor(private readonly host: LoadedModulesHost) {}

  /** Walks Node's loaded modules; those that have left since the last walk are removed. */
  async scan(): Promise<void> {
    const host = this.host;
    const seen = new Set<string>();
    const take = (name: string, file: string, exports: unknown) => {
      if (!isExportsLike(exports)) return;
      if (!isModuleName(name)) {
        // Node loaded it, so it ran already; only a file that declares something is worth a word.
        if (declaresSomething(name, exports)) {
          host.loadError({ file, message: `loaded module ${quoteName(file, 4096)} is not registered: its name ${moduleNameProblem(name)}; rename the file` });
        }
        return;
      }
      const owner = host.record(name);
      if (owner?.origin === 'registered') return;
      if (owner !== undefined && owner.file !== file) {
        if (declaresSomething(name, exports)) {
          host.loadError({
            module: name,
            file,
            message: `module name "${name}" is already taken by ${owner.file ?? 'another module'}; rename one of the files`,
          });
        }
        return;
      }
      if (host.adopt(name, exports, file) === 'installed') seen.add(name);
    };

    const commonJs = loadedCommonJs();
    // A cache record is plugin data too: whatever reading it throws makes a load error of that file only.
    const guarded = (name: string, file: string, read: () => unknown) => {
      try {
        take(name, file, read());
      } catch (err) {
        host.loadError({ file, message: `loaded module ${quoteName(file, 4096)} cannot be read: ${errorText(err)}` });
      }
    };
    for (const { name, file, module } of commonJs) {
      guarded(name, file, () => {
        if (module.loaded) return module.exports;
        setImmediate(() => guarded(name, file, () => (module.loaded && host.started() ? module.exports : undefined)));
        return undefined;
      });
    }

    const recorder = esmRecorder();
    if (recorder.active) {
      await recorder.flush();
      const importLoaded = (url: string): Promise<void> => {
        const file = fileURLToPath(url);
        if (isForeign(file)) return Promise.resolve();
        const name = moduleNameOf(file);
        return import(url).then(
          (ns: object) => guarded(name, file, () => ns),
          (err: unknown) => host.loadError({ module: name, file, message: `module failed to load: ${errorText(err)}` }),
        );
      };
      // A module still evaluating (the host awaiting start() at top level) is taken when it finishes.
      const pending = [...recorder.urls].map(importLoaded);
      await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 20))]);
      this.stopEsm?.();
      this.stopEsm = recorder.subscribe((url) => void importLoaded(url));
    }

    // Modules that left since the last walk go; those still loaded (an ES module still evaluating) stay.
    const commonJsFiles = new Set(commonJs.map((m) => m.file));
    const stillLoaded = (file: string | undefined) =>
      file !== undefined && (commonJsFiles.has(file) || recorder.urls.has(pathToFileURL(file).href));
    for (const record of host.loadedRecords()) {
      if (!seen.has(record.name) && !stillLoaded(record.file)) host.uninstall(record.name);
    }
  }

  /** Stops taking ES modules as they load. */
  stop(): void {
    this.stopEsm?.();
    this.stopEsm = null;
  }
}

/** Whether a module's exports declare anything; exports that cannot even be read count as declaring. */
function declaresSomething(name: string, exports: object): boolean {
  try {
    return declaresAnything(readExports(name, exports));
  } catch {
    return true;
  }
}
