import { describe, expect, it } from 'vitest';
import { clusterSettings } from '../src/cluster/settings.js';
import { connectCluster } from '../src/cluster/connection.js';
import { freePort, startNatsServer } from './helpers/nats-server.js';

describe('cluster settings', () => {
  it('fills in the defaults', () => {
    expect(clusterSettings({ servers: 'nats://127.0.0.1:4222' })).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      name: 'extpoint',
      token: undefined,
      creds: undefined,
      callTimeoutMs: 1000,
      heartbeatMs: 1000,
    });
  });

  it('refuses bad values, naming the key', () => {
    const bad: [unknown, RegExp][] = [
      [null, /option cluster must be an object/],
      [{}, /cluster\.servers must be a NATS URL/],
      [{ servers: 'http://x' }, /cluster\.servers/],
      [{ servers: 'nats://h:1', name: 'a.b' }, /cluster\.name/],
      [{ servers: 'nats://h:1', token: '' }, /cluster\.token/],
      [{ servers: 'nats://h:1', token: 't', creds: 'c' }, /cannot both be given/],
      [{ servers: 'nats://h:1', callTimeoutMs: 0 }, /cluster\.callTimeoutMs/],
      [{ servers: 'nats://h:1', heartbeatMs: 1.5 }, /cluster\.heartbeatMs/],
      [{ servers: 'nats://h:1', sever: 1 }, /sever/],
    ];
    for (const [options, message] of bad) expect(() => clusterSettings(options as never)).toThrow(message);
  });
});

describe('cluster connection', () => {
  it('connects with the token the server asks for, and says why when it cannot', async () => {
    const server = await startNatsServer({ token: 'sekret' });
    try {
      const nc = await connectCluster(clusterSettings({ servers: server.url, token: 'sekret' }), 'test');
      await nc.close();
      await expect(connectCluster(clusterSettings({ servers: server.url }), 'test')).rejects.toThrow(/credentials/);
      await expect(connectCluster(clusterSettings({ servers: server.url, token: 'wrong' }), 'test')).rejects.toThrow(/credentials/);
    } finally {
      await server.stop();
    }
    const nobody = `nats://127.0.0.1:${await freePort()}`;
    await expect(connectCluster(clusterSettings({ servers: nobody }), 'test')).rejects.toThrow(/is nats-server running there/);
  });
});
