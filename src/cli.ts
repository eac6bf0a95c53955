#!/usr/bin/env node
/**
 * The `extpoint` command: `report`, `check`, `repl`, `attach` and `state`, each with `--help`. Exit status 0 on
 * success, 1 when `check` finds problems or a command fails, 2 for a usage error (the usage is printed).
 */
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { escapeControls, messageOf, safeInspect } from './operator/safe-text.js';
import { COMMANDS, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, UsageError } from './cli-commands.js';

const MAIN_USAGE = `Usage: extpoint <command> [options]

Look inside extension points and their plugins, from plugin folders or a running host.

Commands:
  report [--plugins DIR ...] [--json]   load plugin folders and print the report
  check DIR ...                         validate plugin files; exit status 1 on any problem
  repl [--plugins DIR ...]              a REPL with the extension and its calls in scope
  attach SOCKET                         a REPL inside a running host that called serveRepl(SOCKET)
  state FILE [--json]                   print a state file (createExtension's stateFile) as a report
  install SPEC --dir DIR --allow SRC    install or upgrade a plugin package (.tgz, folder, registry, https)
  uninstall NAME --dir DIR              remove an installed plugin package
  installed --dir DIR                   list the installed plugin packages
  node --nats URL --name N --plugins DIR  serve plugin folders as a remote plugin node over NATS
  help [COMMAND]                        this help, or a command's

Options:
  -h, --help       show help (after a command: that command's help)
  -v, --version    print extpoint's version

Exit status:
  0  success
  1  check found problems, or the command failed (a folder could not load, attach could not connect)
  2  usage error: unknown command or option, missing or bad argument
`;

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

/** parseArgs's complaint, shortened where it is long-winded. */
function parseProblem(err: NodeJS.ErrnoException): string {
  const option = /'([^']+)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) return `unknown option "${option}"`;
  return err.message;
}

function usageError(command: string | null, message: string): number {
  const name = command === null ? 'extpoint' : `extpoint ${command}`;
  process.stderr.write(`${name}: ${escapeControls(message)}\n\n${command === null ? MAIN_USAGE : COMMANDS[command]!.usage}`);
  return EXIT_USAGE;
}

/** Runs the command line `args` (without node and the script); resolves to the exit status. */
async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) return usageError(null, 'missing command');
  if (first === '-h' || first === '--help') {
    process.stdout.write(MAIN_USAGE);
    return EXIT_OK;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(version() + '\n');
    return EXIT_OK;
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(MAIN_USAGE);
    else if (Object.hasOwn(COMMANDS, topic)) process.stdout.write(COMMANDS[topic]!.usage);
    else return usageError(null, `unknown command "${topic}"; the commands are ${Object.keys(COMMANDS).join(', ')}`);
    return EXIT_OK;
  }
  if (!Object.hasOwn(COMMANDS, first)) {
    const what = first.startsWith('-') ? `unknown option "${first}" (options go after the command)` : `unknown command "${first}"`;
    return usageError(null, `${what}; the commands are ${Object.keys(COMMANDS).join(', ')}`);
  }
  const command = COMMANDS[first]!;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (err) {
    return usageError(first, parseProblem(err as NodeJS.ErrnoException));
  }
  if (parsed.values.help === true) {
    process.stdout.write(command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError) return usageError(first, err.message);
    process.stderr.write(`extpoint ${first}: ${escapeControls(messageOf(err), true)}\n`);
    return EXIT_PROBLEMS;
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    process.stderr.write(`extpoint: ${escapeControls(safeInspect(err), true)}\n`);
    process.exitCode = EXIT_PROBLEMS;
  },
);
