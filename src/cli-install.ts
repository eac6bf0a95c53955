/**
 * The installer's subcommands of `extpoint`: `install`, `uninstall` and `installed`, over
 * `extpoint/install`. cli-commands.ts lists them with the others and gives them its usage error and
 * folder check.
 */
import type { ParseArgsConfig } from 'node:util';
import { join } from 'node:path';
import { checkFolders } from './check.js';
import { install, listInstalled, uninstall, isInstallError } from './install/index.js';
import { escapeControls } from './operator/safe-text.js';

const EXIT_OK = 0;
const EXIT_PROBLEMS = 1;

/** One subcommand, shaped as cli-commands.ts's Command. */
interface InstallCommand {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** What the commands borrow from cli-commands.ts. */
interface Shared {
  /** A usage error (printed with the usage, exit status 2). */
  usageError(message: string): Error;
  /** Checks that each path is a folder; a usage error otherwise. */
  folders(paths: string[], what: string): Promise<string[]>;
}

/** The installer's subcommands. */
export function installCommands({ usageError, folders }: Shared): Record<string, InstallCommand> {
  /** The --dir of an installer command; missing is a usage error. */
  const installDirOf = (values: Record<string, unknown>): string => {
    if (typeof values.dir !== 'string') throw usageError('missing --dir DIR: give the plugin folder to install into');
    return values.dir;
  };
  return {
    install: {
      usage: `Usage: extpoint install SPEC --dir DIR --allow SOURCE ... [--integrity SRI] [--force]

Installs a plugin package into the plugin folder DIR as DIR/<name>/, or upgrades it there. SPEC is a .tgz
made by npm pack, a package folder, name@version from the registry, or an https URL of a .tgz. Entries
that would escape DIR, devices and FIFOs are refused, sizes are capped, scripts never run. The plugin
files are loaded in a child process before the package is switched in; a failure changes nothing.

Options:
  --dir DIR            the plugin folder to install into
  --allow SOURCE       a source to accept (repeat): file: (or file:/folder/), registry, https://host/prefix/
  --integrity SRI      the archive's expected integrity (sha512-...), checked before anything is written
  --allow-unpinned     accept a registry or URL install without --integrity
  --force              install even when the version does not increase
  --protect NAME       a package or module name that must not be installed over (repeat)
  -h, --help           show this help

Exit status: 0 installed, 1 refused or failed (the message says why), 2 usage error.
`,
      options: {
        dir: { type: 'string' },
        allow: { type: 'string', multiple: true },
        integrity: { type: 'string' },
        'allow-unpinned': { type: 'boolean' },
        force: { type: 'boolean' },
        protect: { type: 'string', multiple: true },
      },
      async run(values, positionals) {
        if (positionals.length !== 1) throw usageError(positionals.length === 0 ? 'missing SPEC: give a .tgz, a folder, name@version or an https URL' : `unexpected argument "${positionals[1]}"; install takes one SPEC`);
        const dir = (await folders([installDirOf(values)], '--dir'))[0]!;
        return installerStep(async () => {
          const { installed, replaced } = await install(positionals[0]!, {
            dir,
            allow: (values.allow as string[] | undefined) ?? [],
            ...(typeof values.integrity === 'string' ? { integrity: values.integrity } : {}),
            allowUnpinned: values['allow-unpinned'] === true,
            force: values.force === true,
            protected: (values.protect as string[] | undefined) ?? [],
            check: async (folder) => (await checkFolders([folder], true)).status.loadErrors,
          });
          const was = replaced === null ? '' : ` (replacing ${replaced})`;
          process.stdout.write(escapeControls(`installed ${installed.name}@${installed.version} into ${join(dir, installed.folder)}${was}`) + '\n');
        });
      },
    },

    uninstall: {
      usage: `Usage: extpoint uninstall NAME --dir DIR

Removes the installed package NAME from the plugin folder DIR (one rename takes its folder away; a host
watching DIR unloads its plugins) and from the install manifest.

Options:
  --dir DIR       the plugin folder it was installed into
  --protect NAME  a package or module name that must not be removed (repeat)
  -h, --help      show this help

Exit status: 0 removed, 1 not installed or protected, 2 usage error.
`,
      options: { dir: { type: 'string' }, protect: { type: 'string', multiple: true } },
      async run(values, positionals) {
        if (positionals.length !== 1) throw usageError(positionals.length === 0 ? 'missing NAME: give the name of an installed package' : `unexpected argument "${positionals[1]}"; uninstall takes one NAME`);
        const dir = (await folders([installDirOf(values)], '--dir'))[0]!;
        return installerStep(async () => {
          const removed = await uninstall(positionals[0]!, { dir, protected: (values.protect as string[] | undefined) ?? [] });
          process.stdout.write(escapeControls(`uninstalled ${removed.name}@${removed.version} from ${dir}`) + '\n');
        });
      },
    },

    installed: {
      usage: `Usage: extpoint installed --dir DIR [--json]

Lists the packages the installer put in the plugin folder DIR: name, version, source and time.

Options:
  --dir DIR   the plugin folder
  --json      print the manifest's entries as JSON
  -h, --help  show this help

Exit status: 0 listed, 1 the manifest cannot be read, 2 usage error.
`,
      options: { dir: { type: 'string' }, json: { type: 'boolean' } },
      async run(values, positionals) {
        if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"; give the folder with --dir DIR`);
        const dir = (await folders([installDirOf(values)], '--dir'))[0]!;
        return installerStep(async () => {
          const list = await listInstalled({ dir });
          if (values.json === true) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          else if (list.length === 0) process.stdout.write(escapeControls(`nothing installed in ${dir}`) + '\n');
          else process.stdout.write(list.map((p) => escapeControls(`${p.name}@${p.version}  ${p.source}  ${p.time}`)).join('\n') + '\n');
        });
      },
    },
  };
}

/** Runs an installer step: its refusals (errors with a code) are printed plainly, exit status 1. */
async function installerStep(step: () => Promise<void>): Promise<number> {
  try {
    await step();
    return EXIT_OK;
  } catch (err) {
    if (!isInstallError(err) && !(err instanceof TypeError)) throw err;
    process.stderr.write(escapeControls((err as Error).message, true) + '\n');
    return EXIT_PROBLEMS;
  }
}

