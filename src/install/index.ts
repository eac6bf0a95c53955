/**
 * `extpoint/install`: installing plugin packages into a plugin folder, safely. See the README section
 * "Installing plugins" for what it protects against and what it does not (it does not sandbox code).
 */
export { install, uninstall, listInstalled, type InstallOptions, type InstallResult } from './install.js';
export { isInstallError, type InstallError, type InstallErrorCode } from './errors.js';
export { DEFAULT_LIMITS, type InstallLimits } from './limits.js';
export { DEFAULT_LOAD_DEADLINE_MS, type LoadEvents, type LoadProblem } from './load-check.js';
export { MANIFEST, type InstalledPackage } from './manifest.js';
