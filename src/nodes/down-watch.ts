/**
 * While a worker node is down, a change in its folder starts it again: one recursive `fs.watch`, open
 * only while the node is down, so that an up node costs nothing here.
 */
import { watch, type FSWatcher } from 'node:fs';

export class DownWatch {
  private watcher: FSWatcher | null = null;

  constructor(
    private readonly dir: string,
    private readonly changed: () => void,
  ) {}

  open(): void {
    if (this.watcher !== null) return;
    try {
      this.watcher = watch(this.dir, { recursive: true }, () => {
        this.close();
        this.changed();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // A folder that cannot be watched: `restartNode` still brings the node back.
      this.watcher = null;
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
