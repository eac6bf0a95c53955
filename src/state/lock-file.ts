/**
 * A lock file beside the state file (`<file>.lock`), holding the pid of the process that owns the state.
 * It is created exclusively; a lock whose process is gone (killed with SIGKILL, say) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { StateError } from './store.js';

export class LockFile {
  private held = false;

  constructor(readonly path: string) {}

  /** Takes the lock, or throws `ESTATELOCKED` naming the live process that holds it. */
  take(stateFile: string): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StateError('ESTATEIO', `cannot create the lock file ${this.path} for state file ${stateFile}: ${(err as Error).message}`);
        }
      }
      const owner = this.owner();
      if (owner !== null && owner !== process.pid && isAlive(owner)) {
        throw new StateError(
          'ESTATELOCKED',
          `state file ${stateFile} is in use by process ${owner} (lock ${this.path}): two processes must not share one ` +
            `state file; give each its own stateFile, or stop process ${owner} first`,
        );
      }
      // Left by a process that is gone (or by this one): take it over.
      try {
        unlinkSync(this.path);
      } catch {
        // someone else took it over first; try again
      }
    }
    throw new StateError('ESTATELOCKED', `state file ${stateFile}: the lock ${this.path} keeps changing hands; try again`);
  }

  /** Releases the lock if this process holds it. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (this.owner() === process.pid) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  /** The pid written in the lock file, or null when it cannot be read. */
  private owner(): number | null {
    try {
      const pid = Number.parseInt(readFileSync(this.path, 'utf8').trim(), 10);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
