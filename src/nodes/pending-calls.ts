/**
 * The crossings a node waits on, by message id, with one deadline sweep for all of them: a call costs a
 * map entry, not a timer. Every entry has the same time limit, so entries come due in the order they were
 * added; the one timer is set for the oldest entry's deadline, and when it fires the entries past due are
 * timed out and it is set again for the next. It does not keep the process alive (the worker does).
 */

/** One crossing waited on: how to answer it, and when it is due. */
export interface Pending {
  /** 0: a batch of calls (`NodeAnswer[]`), 1: a pipe run (`CrossingPipeAnswer`). */
  readonly kind: 0 | 1;
  readonly resolve: (answer: never) => void;
  /** Entries of the batch (kind 0). */
  readonly size: number;
  readonly deadline: number;
}

export class PendingCalls {
  private readonly entries = new Map<number, Pending>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limitMs: number,
    /** Called for the oldest entry past its deadline; it must take that entry (and may take all). */
    private readonly onOverdue: (id: number, entry: Pending) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(id: number, kind: 0 | 1, resolve: (answer: never) => void, size: number): void {
    this.entries.set(id, { kind, resolve, size, deadline: performance.now() + this.limitMs });
    if (this.timer === null) this.arm(this.limitMs);
  }

  /** Takes the entry of `id` (undefined when it was answered or timed out already). */
  take(id: number): Pending | undefined {
    const p = this.entries.get(id);
    if (p !== undefined) this.entries.delete(id);
    return p;
  }

  /** Takes every entry, oldest first; the sweep stops. */
  takeAll(): Pending[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.stop();
    return all;
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = null;
    const now = performance.now();
    for (const [id, p] of this.entries) {
      if (p.deadline > now) {
        if (this.timer === null) this.arm(p.deadline - now);
        return;
      }
      this.entries.delete(id);
      this.onOverdue(id, p);
      // the handler may have taken every entry (the worker is restarted): the loop then ends here
    }
  }
}
