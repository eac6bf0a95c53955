/**
 * `extpoint node`: serves plugin folders as a remote plugin node of a cluster over NATS, until SIGINT or
 * SIGTERM. cli-commands.ts lists it with the others and gives it its usage error and folder check.
 */
import type { ParseArgsConfig } from 'node:util';
import { serveNode, type ServeNodeOptions } from './serve-node.js';
import { escapeControls } from './operator/safe-text.js';

const EXIT_OK = 0;

/** One subcommand, shaped as cli-commands.ts's Command. */
interface NodeCommand {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** What the command borrows from cli-commands.ts. */
interface Shared {
  usageError(message: string): Error;
  folders(paths: string[], what: string): Promise<string[]>;
}

const USAGE = `Usage: extpoint node --nats URL --name NAME --plugins DIR ... [--cluster NAME] [--token T | --creds FILE]

Serves plugin folders as a remote plugin node: hosts that join the same cluster
(createExtension({ cluster: { servers: URL } })) register its plugins under node NAME and call them over
NATS. The folders are watched: a change reaches the hosts within a second. Runs until SIGINT or SIGTERM,
then says bye to the hosts and exits. A second node with the same NAME in the cluster is refused.

Options:
  --nats URL          the NATS server, such as nats://127.0.0.1:4222; repeat for more
  --name NAME         the node's name: letters, digits, _ and -
  -p, --plugins DIR   a plugin folder to serve; repeat for more
  --cluster NAME      the cluster's name (default extpoint)
  --token T           the token the server asks for (nats-server --auth T)
  --creds FILE        a NATS credentials file, for servers run with accounts
  --heartbeat-ms MS   how often the node tells hosts it is alive (default 1000)
  --no-watch          load the folders once, without watching them
  --no-check-permissions
                      load files even from world-writable folders or other users' files
  -h, --help          show this help

Exit status: 0 after SIGINT or SIGTERM, 1 the node could not start (no server, refused credentials,
name taken), 2 usage error.
`;

export function nodeCommands({ usageError, folders }: Shared): Record<string, NodeCommand> {
  return {
    node: {
      usage: USAGE,
      options: {
        nats: { type: 'string', multiple: true },
        name: { type: 'string' },
        plugins: { type: 'string', short: 'p', multiple: true },
        cluster: { type: 'string' },
        token: { type: 'string' },
        creds: { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        watch: { type: 'boolean', default: true },
        'check-permissions': { type: 'boolean', default: true },
      },
      async run(values, positionals) {
        if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"; give folders with --plugins DIR`);
        const servers = values.nats as string[] | undefined;
        if (servers === undefined) throw usageError('missing --nats URL: give the NATS server, such as nats://127.0.0.1:4222');
        if (typeof values.name !== 'string') throw usageError('missing --name NAME: give the node a name, such as billing-eu');
        const plugins = (values.plugins as string[] | undefined) ?? [];
        if (plugins.length === 0) throw usageError('missing --plugins DIR: give the plugin folder this node serves');
        if (values.token !== undefined && values.creds !== undefined) throw usageError('give --token or --creds, not both');
        const options: ServeNodeOptions = {
          servers,
          name: values.name,
          pluginDirs: await folders(plugins, '--plugins'),
          watch: values.watch !== false,
          checkPermissions: values['check-permissions'] !== false,
        };
        if (typeof values.cluster === 'string') options.cluster = values.cluster;
        if (typeof values.token === 'string') options.token = values.token;
        if (typeof values.creds === 'string') options.creds = values.creds;
        if (typeof values['heartbeat-ms'] === 'string') {
          const ms = Number(values['heartbeat-ms']);
          if (!Number.isInteger(ms) || ms < 10) throw usageError(`--heartbeat-ms must be a whole number of milliseconds, 10 or more, not "${values['heartbeat-ms']}"`);
          options.heartbeatMs = ms;
        }
        let service;
        try {
          service = await serveNode(options);
        } catch (e) {
          if (e instanceof TypeError) throw usageError(e.message.replace(/^extpoint: /, ''));
          throw e;
        }
        const modules = service.modules();
        process.stdout.write(
          escapeControls(`extpoint node ${service.name}: serving ${modules.length} modules (${modules.join(', ') || 'none yet'}) to cluster ${service.cluster} at ${servers.join(', ')}`) + '\n',
        );
        await new Promise<void>((done) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            done();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await service.close();
        process.stdout.write(`extpoint node ${service.name}: closed\n`);
        return EXIT_OK;
      },
    },
  };
}
