/** The cluster demo, end to end: `node demo/cluster/main.js` with its own nats-server and node process. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('npm run demo:cluster', () => {
  it('calls a remote node and the host, survives its kill -9, and sees it back with its counters', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['demo/cluster/main.js'], { env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000 });
    expect(stdout).toMatch(/ok billing@billing-eu: \{"vat":400,"by":"billing-eu \(pid \d+\)"\}\n {2}ok shipping@local/);
    expect(stdout).toContain('health: billing ok, shipping ok');
    expect(stdout).toMatch(/billing-eu remote up since \S+: 1 plugins, 1 calls, 0 restarts/);
    expect(stdout).toMatch(/after kill -9 of the node ->\n {2}EXIT billing@billing-eu ENODEDOWN\n {2}ok shipping@local/);
    expect(stdout).toContain('billing plugin counters: ok 2, exit 1');
    expect(stdout).toMatch(/done\n$/);
  });
});
