/** The demo's plugin folder part, end to end: the real `node demo/main.js` drops a plugin in while it runs. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('demo: a plugin dropped into the watched folder', () => {
  it('loads it while the host runs, calls it, unloads it when deleted, and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['demo/main.js'], {
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/plugin_demo_point1_Plugin\s+anat\s+local\s+enable\s+2\s+0/);
    expect(stdout).toMatch(/load event: module late from \S+late\.cjs/);
    expect(stdout).toContain(`'late: ok {"from":"late","seen":1,"note":"dropped in while the host ran"}'`);
    expect(stdout).toContain('unload event: module late; point1 now has 3 plugins');
    // The first report comes before the drop-in: it knows nothing of `late`.
    expect(stdout.indexOf('load event')).toBeGreaterThan(stdout.indexOf('plugin2 plugin_demo_point1_Plugin #2'));
  });
});
