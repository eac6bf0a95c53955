/**
 * The two delays of plugin-folder work. A failed load of a file that was just written is reported only
 * once the file has stayed as it is for `ERROR_GRACE_MS` (it may still be being written); and after a load
 * from a watch event, files are compared with what was read once more `VERIFY_MS` later, since the
 * watcher may miss a change that closely follows another.
 */
import { currentStamp } from './watcher.js';

/** After a failed load of a file that was just written, how long it must stay unchanged to be reported. */
export const ERROR_GRACE_MS = 400;
/** After a load from a watch event, when to check once more that the file did not change unseen. */
const VERIFY_MS = 250;

export class FolderTimers {
  private readonly pendingErrors = new Map<string, NodeJS.Timeout>();
  private readonly verifyTimers = new Set<NodeJS.Timeout>();

  /** Calls `record` for `file`'s failure once `fault` (the file at fault) has not changed for a while, if `stillActive()`. */
  reportWhenSettled(file: string, fault: string, stillActive: () => boolean, record: () => void): void {
    this.cancel(file);
    const stamp = currentStamp(fault);
    this.pendingErrors.set(
      file,
      setTimeout(() => {
        this.pendingErrors.delete(file);
        if (stillActive() && currentStamp(fault) === stamp) record();
      }, ERROR_GRACE_MS),
    );
  }

  /** Drops a failure of `file` waiting to be reported. */
  cancel(file: string): void {
    const timer = this.pendingErrors.get(file);
    if (timer !== undefined) clearTimeout(timer);
    this.pendingErrors.delete(file);
  }

  /** Runs `check` now and once more a little later. */
  checkNowAndLater(check: () => void): void {
    check();
    const timer = setTimeout(() => {
      this.verifyTimers.delete(timer);
      check();
    }, VERIFY_MS);
    this.verifyTimers.add(timer);
  }

  /** Cancels every timer. */
  clear(): void {
    for (const timer of this.pendingErrors.values()) clearTimeout(timer);
    this.pendingErrors.clear();
    for (const timer of this.verifyTimers) clearTimeout(timer);
    this.verifyTimers.clear();
  }
}
