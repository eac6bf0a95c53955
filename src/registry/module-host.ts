/**
 * The narrow interface through which loaders (the loaded-module scan, plugin folders) change the
 * registry. Declared here, below them, so that loaders never import the facade that wires them.
 */
import type { Declarations } from '../core/declarations.js';
import type { LoadError } from '../core/history.js';
import type { ModuleOrigin } from './registry.js';

/** What a module host (the folder loader, say) may do with the registry. */
export interface ModuleHost {
  /** Reads a module's convention-named exports; throws when they cannot even be listed. */
  read(name: string, exports: object): Declarations;
  /** Installs (or replaces) a module from `file`; false when it was refused and a load error recorded. */
  install(name: string, decls: Declarations, origin: ModuleOrigin, file?: string): boolean;
  /** Removes a module; false when it was not registered. */
  uninstall(name: string): boolean;
  /** Records a load error and emits `loadError`. */
  loadError(error: Omit<LoadError, 'at'>): void;
}
