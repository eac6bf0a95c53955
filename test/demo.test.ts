/** The demo, end to end: the real `node demo/main.js` process and what it prints. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('calls point1 twice: both healthy plugins ok 2 exit 0, plugin2 failing, the point summing them; then a pipeline', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['demo/main.js'], { env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/plugin_demo_point1_Extension\s+plugin_demo\s+local\s+enable\s+4\s+2/);
    expect(stdout).toMatch(/plugin_demo_point1_Plugin\s+anat\s+local\s+enable\s+2\s+0/);
    expect(stdout).toMatch(/plugin_demo_point1_Plugin\s+plugin_demo\s+local\s+enable\s+2\s+0/);
    expect(stdout).toMatch(/plugin_demo_point1_Plugin\s+plugin2\s+local\s+enable\s+0\s+2/);
    expect(stdout).toMatch(/plugin2 plugin_demo_point1_Plugin #2 at \S+: Error \[EBADMATCH\]: badmatch/);
    expect(stdout).toMatch(/^web panel: http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{16,}$/m);
    expect(stdout).toContain('pipe(calc, run, 5) -> 11');
    expect(stdout).toContain('pipe(calc, run, 500) -> too large');
    expect(stdout).toContain('increment is held by double');
  });
});
