/**
 * Plugin files refused for their names. A file whose base name is no module name (a space, a control
 * character, a look-alike letter from another alphabet) is never run: an operator could neither type its
 * name nor disable it. Each version of such a file is reported once, not on every scan.
 */
import { moduleNameProblem, quoteName } from '../core/naming.js';
import { currentStamp } from './watcher.js';

export class RefusedNames {
  /** Refused files, with the stamp of the version that was reported. */
  private readonly reported = new Map<string, string>();

  /**
   * Whether `file`, whose module name would be `name`, is refused; `report` is called with the reason the
   * first time a version of it is seen.
   */
  refuses(file: string, name: string, report: (message: string) => void): boolean {
    const problem = moduleNameProblem(name);
    if (problem === null) return false;
    const stamp = currentStamp(file);
    if (this.reported.get(file) !== stamp) {
      this.reported.set(file, stamp);
      report(`plugin file ${quoteName(file, 4096)} is not loaded: its name ${problem}; rename the file`);
    }
    return true;
  }

  /** Forgets a file that went away, so that it is reported again if it comes back. */
  forget(file: string): void {
    this.reported.delete(file);
  }
}
