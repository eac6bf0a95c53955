/**
 * One NATS connection for a host or a plugin node, made from checked cluster settings: it reconnects by
 * itself for as long as the process lives (a restarted `nats-server` is joined again without help), and
 * a refused connection (no server, wrong credentials) rejects with an error that says which and what to do.
 */
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { ClusterSettings } from './settings.js';
import { errorText } from '../core/thrown.js';

/**
 * Connects to the cluster's servers; `label` names the connection in the server's monitoring (a host's
 * or node's name).
 *
 * @throws Error naming the servers and the reason when the first connection cannot be made.
 */
export async function connectCluster(settings: ClusterSettings, label: string): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: settings.servers,
    name: `${settings.name}:${label}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: Math.max(1000, settings.heartbeatMs * 2),
  };
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.creds !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(settings.creds);
    } catch (e) {
      throw new Error(`extpoint: cannot read cluster.creds ${settings.creds}: ${errorText(e)}; give the path of a NATS credentials file`);
    }
    options.authenticator = credsAuthenticator(bytes);
  }
  try {
    return await connect(options);
  } catch (e) {
    const why = errorText(e);
    const hint = /auth/i.test(why)
      ? 'the server refused the credentials: give cluster.token (or --token) or cluster.creds (or --creds) as the server expects'
      : 'is nats-server running there? Start one with `nats-server -js`, or fix cluster.servers';
    throw new Error(`extpoint: cannot connect to NATS at ${settings.servers.join(', ')}: ${why}; ${hint}`);
  }
}
