/**
 * What a module's arrival and departure do, whoever brings it (`registerModule`, the loaded-module walk,
 * a plugin folder, a worker node): its exports are read, refused exports become load errors, the registry
 * takes the rest in one step, and a `load`, `reload` or `unload` event says so.
 */
import { declaresAnything, readExports, type Declarations } from '../core/declarations.js';
import type { LoadError } from '../core/history.js';
import { errorText } from '../core/thrown.js';
import type { ModuleHost } from './module-host.js';
import type { ModuleOrigin, Registry } from './registry.js';

/** What `load`, `reload` and `unload` events carry. */
export interface ModuleEvent {
  module: string;
  origin: ModuleOrigin;
  file?: string;
}

/** Where the installer reports: module events and load errors. */
export interface InstallerOutlets {
  changed(kind: 'load' | 'reload' | 'unload', event: ModuleEvent): void;
  loadError(error: Omit<LoadError, 'at'>): void;
}

export class ModuleInstaller implements ModuleHost {
  constructor(
    private readonly registry: Registry,
    private readonly out: InstallerOutlets,
  ) {}

  read(name: string, exports: object): Declarations {
    return readExports(name, exports);
  }

  /** Reads and installs a module; records why when it cannot. A module that declares nothing is a helper (unless registered). */
  adopt(name: string, exports: object, origin: ModuleOrigin, file?: string): 'helper' | 'installed' | 'failed' {
    let decls: Declarations;
    try {
      decls = readExports(name, exports);
    } catch (err) {
      this.out.loadError({ module: name, file, message: `reading the exports of module "${name}" threw: ${errorText(err)}` });
      return 'failed';
    }
    if (origin !== 'registered' && !declaresAnything(decls)) return 'helper';
    return this.install(name, decls, origin, file) ? 'installed' : 'failed';
  }

  install(name: string, decls: Declarations, origin: ModuleOrigin, file?: string, node?: string): boolean {
    for (const problem of decls.problems) this.out.loadError({ module: name, file, ...problem });
    const outcome = this.registry.apply(name, decls, origin, file, node);
    for (const problem of outcome.problems) this.out.loadError({ module: name, file, ...problem });
    if (outcome.refused) return false;
    this.out.changed(outcome.replaced ? 'reload' : 'load', file === undefined ? { module: name, origin } : { module: name, origin, file });
    return true;
  }

  uninstall(name: string): boolean {
    const record = this.registry.modules.get(name);
    if (record === undefined || !this.registry.remove(name)) return false;
    const { origin, file } = record;
    this.out.changed('unload', file === undefined ? { module: name, origin } : { module: name, origin, file });
    return true;
  }

  loadError(error: Omit<LoadError, 'at'>): void {
    this.out.loadError(error);
  }
}
