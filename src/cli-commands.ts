/**
 * The subcommands of `extpoint`: `report`, `check`, `repl`, `attach` and `state`, each with its usage text,
 * its options and what it runs, and the helpers they share. `cli.ts` parses the command line and picks one.
 * The installer's `install`, `uninstall` and `installed` are in cli-install.ts.
 */
import type { ParseArgsConfig } from 'node:util';
import { stat } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { createExtension, extension } from './index.js';
import type { Extension } from './extension.js';
import type { ReportOptions } from './operator/report-filter.js';
import { jsonReportText } from './operator/report-json.js';
import { escapeControls, oneLine } from './operator/safe-text.js';
import { colorsFor } from './operator/terminal-text.js';
import { startReplSession, SCOPE_CALLS } from './operator/repl.js';
import { attach } from './operator/attach.js';
import { reportOfSnapshot } from './operator/state-report.js';
import { FileStore } from './state/file-store.js';
import { CHECK_LOAD_TIMEOUT_MS, checkFolders, type CheckResult } from './check.js';
import { installCommands } from './cli-install.js';
import { nodeCommands } from './cli-node.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

const PERMISSIONS_HELP = `  --no-check-permissions
                      load files even from world-writable folders or other users' files
                      (for development only; by default such files are refused)`;

/** One subcommand: its usage text, its options for parseArgs, and what it does. */
export interface Command {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** The subcommands, in the order the usage lists them. */
export const COMMANDS: Record<string, Command> = {
  report: {
    usage: `Usage: extpoint report [--plugins DIR ...] [--failing] [--point M/P] [--module M] [--all] [--json]

Loads the plugin folders (without watching them) and prints the report: every point with the plugins
that serve it, enabled or not, ok and exit counts, the last exit of each failing plugin, load errors
with their paths, the start count and time. A report longer than 40 lines is shown as a summary that
fits one screen; the filters narrow it, --all prints every row.

Options:
  -p, --plugins DIR   a plugin folder; repeat for more (earlier folders win duplicate module names)
  --failing           only plugins that failed, the points they serve, and the load errors
  --point M/P         only point P of module M and the plugins serving it
  --module M          only what concerns module M: its points and their plugins, and its own plugins
  --node N            only the rows of node N
  --all               every row, even when they fill more than a screen
  --json              print the report as JSON instead of tables (filters apply)
${PERMISSIONS_HELP}
  -h, --help          show this help

Exit status: 0 printed (load errors are part of the report), 2 usage error.
`,
    options: {
      plugins: { type: 'string', short: 'p', multiple: true },
      failing: { type: 'boolean' },
      point: { type: 'string' },
      module: { type: 'string' },
      node: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      'check-permissions': { type: 'boolean', default: true },
    },
    async run(values, positionals) {
      if (positionals.length > 0) {
        throw new UsageError(`unexpected argument "${positionals[0]}"; give folders with --plugins DIR`);
      }
      const filters = reportOptions(values);
      const dirs = await folders((values.plugins as string[] | undefined) ?? [], '--plugins');
      const ext = await openExtension(dirs, values['check-permissions'] !== false);
      try {
        const report = ext.report(filters);
        const text = values.json === true ? jsonReportText(report) : report.text({ color: colorsFor(process.stdout), hints: 'cli' });
        process.stdout.write(text + '\n');
      } finally {
        await ext.stop('extpoint report done');
      }
      return EXIT_OK;
    },
  },

  check: {
    usage: `Usage: extpoint check DIR ...

Loads every plugin file in the folders the way a host would (their top-level code runs, in a child
process) and prints one line per problem: the file, what is wrong and what to do. Checks names, load
errors, refused files and plugin metadata; a file that ends the process as it loads (process.exit()) is
a problem of its own, and so is a file whose top-level code runs longer than the timeout (a busy loop).
A plugin held by a dependency that is not in the folders is a warning only. Run it in a plugin's CI.

Options:
${PERMISSIONS_HELP}
  --timeout MS        how long one file's top-level code may run (default ${CHECK_LOAD_TIMEOUT_MS})
  -h, --help          show this help

Exit status: 0 no problem, 1 at least one problem, 2 usage error.
`,
    options: { 'check-permissions': { type: 'boolean', default: true }, timeout: { type: 'string' } },
    async run(values, positionals) {
      if (positionals.length === 0) throw new UsageError('missing DIR: name at least one plugin folder to check');
      const timeout = values.timeout === undefined ? CHECK_LOAD_TIMEOUT_MS : Number(values.timeout);
      if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2_147_483_647) {
        throw new UsageError(`--timeout takes a whole number of milliseconds, such as 10000, not "${String(values.timeout)}"`);
      }
      const dirs = await folders(positionals, 'DIR');
      return printProblems(await checkFolders(dirs, values['check-permissions'] !== false, timeout), dirs);
    },
  },

  repl: {
    usage: `Usage: extpoint repl [--plugins DIR ...]

Starts a REPL (top-level await works) on the process-wide \`extension\` of extpoint, which loads and
watches the plugin folders; a host module you import in the session uses that same instance. In scope:
${wrap(`extension, ${SCOPE_CALLS.map((n) => `${n}()`).join(', ')}, and jsonReport(report) for the report as data.`, 104)}
Commands: .report, .enable [PLUGIN] MODULE POINT, .disable [PLUGIN] MODULE POINT, .health [MODULE [POINT]]
(.help lists them all). Tab completes module and point names inside the quotes of those calls and after
the commands. A flag for a plugin or point not registered now is kept, and the session says it is pending.
.exit or Ctrl+D leaves.

Options:
  -p, --plugins DIR   a plugin folder to load and watch; repeat for more
${PERMISSIONS_HELP}
  -h, --help          show this help

Exit status: 0 when the session ends, 2 usage error.
`,
    options: {
      plugins: { type: 'string', short: 'p', multiple: true },
      'check-permissions': { type: 'boolean', default: true },
    },
    async run(values, positionals) {
      if (positionals.length > 0) {
        throw new UsageError(`unexpected argument "${positionals[0]}"; give folders with --plugins DIR`);
      }
      const dirs = await folders((values.plugins as string[] | undefined) ?? [], '--plugins');
      // The process-wide default instance, so that a host module imported in the session shares it.
      const ext = extension;
      await ext.start(dirs.length === 0 ? undefined : { pluginDirs: dirs, watch: true, checkPermissions: values['check-permissions'] !== false });
      const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
      const { plugins, points, status } = ext.report();
      const loaded =
        dirs.length === 0 ? 'no plugin folders' : `${count(plugins.length, 'plugin')} on ${count(points.length, 'point')} from ${dirs.join(', ')}`;
      const errors = status.loadErrors.length > 0 ? `, ${count(status.loadErrors.length, 'load error')} (see report())` : '';
      const repl = await startReplSession(ext, {
        input: process.stdin,
        output: process.stdout,
        terminal,
        color: terminal && colorsFor(process.stdout),
        banner: escapeControls(`extpoint repl: ${loaded}${errors}. Try report(); .help lists the commands; .exit leaves.`),
      });
      await new Promise((done) => repl.once('exit', done));
      process.stdin.destroy(); // what follows .exit on piped input is not read, and does not hold the process
      await ext.stop('extpoint repl exit');
      return EXIT_OK;
    },
  },

  attach: {
    usage: `Usage: extpoint attach SOCKET

Opens a REPL inside a running host that serves one with extension.serveRepl(SOCKET). Everything runs
in the host: report(), enablePlugin(), callPlugins() act on the live process. .exit or Ctrl+D leaves;
the host and other sessions keep running.

Options:
  -h, --help          show this help

Exit status: 0 when the session ends, 1 when the socket cannot be reached, 2 usage error.
`,
    options: {},
    async run(_values, positionals) {
      if (positionals.length === 0) throw new UsageError('missing SOCKET: give the socket path the host passed to serveRepl');
      if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"; attach takes one SOCKET`);
      return attach(positionals[0]!, {
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        color: colorsFor(process.stdout),
      });
    },
  },

  state: {
    usage: `Usage: extpoint state FILE [--json]

Reads a state file (the stateFile option of createExtension) and prints it as the report would: flags,
counters, recent exits, load errors, the start count and the terminate history. The file is only read,
so the state file of a running host can be printed.

Options:
  --json       print the file's document as it is (format version 1)
  -h, --help   show this help

Exit status: 0 printed, 1 the file is missing or cannot be used, 2 usage error.
`,
    options: { json: { type: 'boolean' } },
    async run(values, positionals) {
      if (positionals.length === 0) throw new UsageError('missing FILE: give the path of a state file');
      if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"; state takes one FILE`);
      const file = positionals[0]!;
      let saved;
      try {
        saved = await new FileStore(file, { checkPermissions: false }).load();
      } catch (err) {
        process.stderr.write(`extpoint state: ${(err as Error).message}\n`);
        return EXIT_PROBLEMS;
      }
      if (saved === null) {
        process.stderr.write(`extpoint state: ${file}: no such file (a host writes it at start() when given stateFile)\n`);
        return EXIT_PROBLEMS;
      }
      const report = reportOfSnapshot(saved);
      process.stdout.write(values.json === true ? JSON.stringify(saved, null, 2) + '\n' : report.text({ color: colorsFor(process.stdout), hints: 'cli' }) + '\n');
      return EXIT_OK;
    },
  },

  ...installCommands({ usageError: (message) => new UsageError(message), folders }),
  ...nodeCommands({ usageError: (message) => new UsageError(message), folders }),
};

/** Breaks `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line].join('\n');
}

/** A mistake in the command line: printed with the usage, exit status 2. */
export class UsageError extends Error {}

/** The report's filters from the command line; a point without its module is a usage error. */
function reportOptions(values: Record<string, unknown>): ReportOptions {
  const options: ReportOptions = {};
  if (values.failing === true) options.failing = true;
  if (values.all === true) options.all = true;
  for (const key of ['module', 'node'] as const) {
    const value = values[key];
    if (typeof value === 'string') {
      if (value === '') throw new UsageError(`--${key} is empty: give a ${key} name`);
      options[key] = value;
    }
  }
  if (typeof values.point === 'string') {
    const point = values.point;
    const parts = point.split('/');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new UsageError(`--point takes module/point, such as shop/checkout, not "${point}"`);
    }
    options.point = point;
  }
  return options;
}

/** `1 plugin`, `2 plugins`. */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Checks that every folder exists and is a directory. */
async function folders(paths: string[], what: string): Promise<string[]> {
  for (const path of paths) {
    if (path === '') throw new UsageError(`${what} is empty: give a folder path`);
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(code === 'ENOENT' ? `${path}: no such folder` : `${path}: cannot be read (${(err as Error).message})`);
    }
    if (!isDir) throw new UsageError(`${path}: not a folder; give the folder that holds the plugin files`);
  }
  return paths;
}

/** An extension of its own on the plugin folders, not watched, started; loaded modules are not scanned. */
async function openExtension(dirs: string[], checkPermissions: boolean): Promise<Extension> {
  const ext = createExtension({ scanLoaded: false, pluginDirs: dirs, watch: false, checkPermissions });
  await ext.start();
  return ext;
}

/** A path as short as is clear: relative to the working folder when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Prints one line per problem (stdout), then a summary; the exit status says whether there were any. */
function printProblems(report: CheckResult, dirs: string[]): number {
  const lines: string[] = [];
  for (const e of report.status.loadErrors) {
    const where = e.file !== undefined ? shown(e.file) : e.module !== undefined ? `module ${e.module}` : dirs.join(', ');
    const what = e.export !== undefined ? `export ${e.export}: ` : '';
    lines.push(`${escapeControls(where)}: ${escapeControls(what)}${oneLine(e.message, 1000)}`);
  }
  // A plugin held by a dependency outside these folders may be fine in its host: a warning, not a problem.
  const warnings = report.plugins
    .filter((p) => p.heldBy !== null)
    .map((p) => escapeControls(`warning: module ${p.module}: ${p.fn} is held until plugin module ${p.heldBy} is loaded and enabled (not in these folders)`));
  if (warnings.length > 0) process.stdout.write(warnings.join('\n') + '\n');
  const modules = new Set(report.plugins.map((p) => p.module));
  const summary = escapeControls(`${count(modules.size, 'plugin module')}, ${count(report.plugins.length, 'plugin')}, ${count(report.points.length, 'point')} in ${dirs.join(', ')}`);
  if (lines.length === 0) {
    process.stdout.write(`ok: ${summary}\n`);
    return EXIT_OK;
  }
  process.stdout.write(lines.join('\n') + `\n${lines.length} problem${lines.length === 1 ? '' : 's'}: ${summary}\n`);
  return EXIT_PROBLEMS;
}
