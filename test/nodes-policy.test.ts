/** The supervisor's restart policy as a pure unit: backoff, intensity within a sliding period, reset. */
import { describe, expect, it } from 'vitest';
import { BACKOFF_MAX_MS, RestartPolicy } from '../src/nodes/restart-policy.js';

describe('RestartPolicy', () => {
  it('backs off from 100 ms, doubling, up to 5 s', () => {
    const policy = new RestartPolicy({ intensity: 100, periodMs: 1_000_000 });
    const delays = Array.from({ length: 9 }, (_, i) => policy.crashed(i));
    expect(delays.map((d) => (d.restart ? d.delayMs : -1))).toEqual([100, 200, 400, 800, 1600, 3200, BACKOFF_MAX_MS, 5000, 5000]);
  });

  it('allows intensity restarts within the period, then gives up', () => {
    const policy = new RestartPolicy({ intensity: 2, periodMs: 1000 });
    expect(policy.crashed(0).restart).toBe(true);
    expect(policy.crashed(10).restart).toBe(true);
    expect(policy.crashed(20)).toEqual({ restart: false });
    expect(policy.count(20)).toBe(2);
  });

  it('forgets restarts older than the period, and the backoff shrinks with them', () => {
    const policy = new RestartPolicy({ intensity: 2, periodMs: 1000 });
    policy.crashed(0);
    policy.crashed(500);
    expect(policy.crashed(999)).toEqual({ restart: false });
    // At 1000 the first restart left the window: one more is allowed, with the second delay.
    expect(policy.crashed(1000)).toEqual({ restart: true, delayMs: 200 });
    expect(policy.count(2600)).toBe(0);
    expect(policy.crashed(2600)).toEqual({ restart: true, delayMs: 100 });
  });

  it('intensity 0 never restarts; reset forgets every restart', () => {
    expect(new RestartPolicy({ intensity: 0, periodMs: 1000 }).crashed(0)).toEqual({ restart: false });
    const policy = new RestartPolicy({ intensity: 1, periodMs: 1000 });
    policy.crashed(0);
    expect(policy.crashed(1).restart).toBe(false);
    policy.reset();
    expect(policy.crashed(2)).toEqual({ restart: true, delayMs: 100 });
  });
});
