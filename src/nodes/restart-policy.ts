/**
 * The supervisor's restart policy, OTP-style, as a pure unit: after each crash it says whether to start
 * the node again and after how long. Restarts back off from 100 ms, doubling up to 5 s; more than
 * `intensity` restarts within `periodMs` gives up, and the node stays down until restarted by hand.
 */

/** How many restarts a node may have in a period before its supervisor gives up. */
export interface RestartLimits {
  /** Restarts allowed within `periodMs`; one more crash leaves the node down. */
  intensity: number;
  /** The sliding window, in milliseconds. */
  periodMs: number;
}

/** The default limits: 3 restarts a minute. */
export const DEFAULT_RESTART: RestartLimits = Object.freeze({ intensity: 3, periodMs: 60_000 });
/** The first restart's delay, in milliseconds; each further restart within the period doubles it. */
export const BACKOFF_FIRST_MS = 100;
/** The longest delay between a crash and the restart, in milliseconds. */
export const BACKOFF_MAX_MS = 5_000;

/** What to do after a crash: restart after `delayMs`, or stay down. */
export type RestartDecision = { restart: true; delayMs: number } | { restart: false };

/** Remembers recent restarts and decides the next one. Time is given, never read, so tests need no clock. */
export class RestartPolicy {
  /** Times of the restarts within the current period, oldest first. */
  private recent: number[] = [];

  constructor(readonly limits: RestartLimits = DEFAULT_RESTART) {}

  /** Restarts counted in the period ending at `now`. */
  count(now: number): number {
    this.forget(now);
    return this.recent.length;
  }

  /** Decides what follows a crash at `now`; a restart it allows is counted. */
  crashed(now: number): RestartDecision {
    this.forget(now);
    if (this.recent.length >= this.limits.intensity) return { restart: false };
    this.recent.push(now);
    const delayMs = Math.min(BACKOFF_FIRST_MS * 2 ** (this.recent.length - 1), BACKOFF_MAX_MS);
    return { restart: true, delayMs };
  }

  /** Forgets every restart: after a start by hand (`restartNode`, a change in the node's folder). */
  reset(): void {
    this.recent = [];
  }

  private forget(now: number): void {
    let drop = 0;
    while (drop < this.recent.length && now - this.recent[drop]! >= this.limits.periodMs) drop++;
    if (drop > 0) this.recent.splice(0, drop);
  }
}
