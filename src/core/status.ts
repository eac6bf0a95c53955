/**
 * The framework's own history, as the origin's status table keeps it: how many times it started and
 * when last, its terminate reasons and its load errors, both bounded. It outlives restarts of the
 * framework, and a state file can hand it over from an earlier process.
 */
import { ACTIONS_KEPT, LOAD_ERRORS_KEPT, Ring, TERMINATES_KEPT, type LoadError, type OperatorAction, type TerminateReason } from './history.js';

/** The history at one moment, as plain data. */
export interface StatusRecord {
  startCount: number;
  startTime: Date | null;
  terminateCount: number;
  terminateReasons: TerminateReason[];
  loadErrors: LoadError[];
}

export class FrameworkStatus {
  private startCount = 0;
  private startTime: Date | null = null;
  private terminateCount = 0;
  private terminateReasons = new Ring<TerminateReason>(TERMINATES_KEPT);
  private loadErrors = new Ring<LoadError>(LOAD_ERRORS_KEPT);
  /** Operator actions of this process (not kept in a state file). */
  private readonly actions = new Ring<OperatorAction>(ACTIONS_KEPT);
  private actionCount = 0;

  /** Counts a start, now. */
  started(): void {
    this.startCount++;
    this.startTime = new Date();
  }

  /** Records why the framework stopped or restarted. */
  terminated(reason: unknown): void {
    this.terminateReasons.push({ n: ++this.terminateCount, reason, at: new Date() });
  }

  /** Records a load error, now, without its absent fields; returns the entry kept. */
  loadError(error: Omit<LoadError, 'at'>): LoadError {
    const entry: LoadError = { ...error, at: new Date() };
    for (const key of ['module', 'file', 'export'] as const) if (entry[key] === undefined) delete entry[key];
    this.loadErrors.push(entry);
    return entry;
  }

  /** Records an operator action, now; returns the entry kept. */
  operatorAction(action: Omit<OperatorAction, 'n' | 'at'>): OperatorAction {
    const entry: OperatorAction = { n: ++this.actionCount, ...action, at: new Date() };
    this.actions.push(entry);
    return entry;
  }

  /** The operator actions kept, oldest first. */
  operatorActions(): OperatorAction[] {
    return this.actions.toArray();
  }

  /** Takes over the history of an earlier process (older entries first, then this process's). */
  adopt(saved: StatusRecord): void {
    const ownTerminates = this.terminateReasons.toArray();
    const ownErrors = this.loadErrors.toArray();
    this.startCount = Math.max(this.startCount, saved.startCount);
    this.startTime = saved.startTime;
    this.terminateCount = Math.max(this.terminateCount, saved.terminateCount);
    this.terminateReasons = new Ring<TerminateReason>(TERMINATES_KEPT);
    this.loadErrors = new Ring<LoadError>(LOAD_ERRORS_KEPT);
    for (const t of [...saved.terminateReasons, ...ownTerminates]) this.terminateReasons.push(t);
    for (const e of [...saved.loadErrors, ...ownErrors]) this.loadErrors.push(e);
  }

  /** The history now. */
  record(): StatusRecord {
    return {
      startCount: this.startCount,
      startTime: this.startTime,
      terminateCount: this.terminateCount,
      terminateReasons: this.terminateReasons.toArray(),
      loadErrors: this.loadErrors.toArray(),
    };
  }
}
