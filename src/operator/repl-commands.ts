/**
 * The REPL's own commands, listed by `.help` with their arguments: `.report`, `.enable`, `.disable`,
 * `.health` and `.panel`. Also the sentence that says what a flag call did (a pending flag included), and completion
 * of module and point names after the commands.
 */
import { inspect } from 'node:util';
import type { REPLServer } from 'node:repl';
import type { FlagOutcome } from '../core/types.js';
import type { HealthReport } from '../calls/health.js';

/** The calls of an extension that the commands use. */
export interface CommandTarget {
  report(): object;
  enablePlugin(pluginModule: string, module: string, point: string): FlagOutcome;
  disablePlugin(pluginModule: string, module: string, point: string): FlagOutcome;
  enablePoint(module: string, point: string): FlagOutcome;
  disablePoint(module: string, point: string): FlagOutcome;
  health(module?: string, point?: string): Promise<HealthReport>;
  /** Starts a web panel (the extension's own `servePanel`, which lives a floor above the REPL). */
  servePanel(options?: { port?: number }): Promise<{ readonly url: string }>;
}

/** The module, point and plugin-module names the extension knows, with who serves what. */
export interface KnownNames {
  /** `module` -> its points. */
  points: Map<string, Set<string>>;
  /** plugin module -> `module` -> points it serves there. */
  plugins: Map<string, Map<string, Set<string>>>;
}

const FLAG_ARGS = '[PLUGIN] MODULE POINT';
const HEALTH_ARGS = '[MODULE [POINT]]';
const PANEL_ARGS = '[PORT]';

/**
 * What a flag call did, in words; `plugin` is null for a point's flag. A pending flag says that nothing
 * of that name is registered now, which is also what a typo looks like.
 */
export function flagSentence(outcome: FlagOutcome, enabled: boolean, plugin: string | null, module: string, point: string): string {
  const where = `${module}.${point}`;
  if (outcome === 'applied') {
    const verb = enabled ? 'enabled' : 'disabled';
    return plugin === null ? `${verb} point ${where}` : `${verb} plugin ${plugin} on ${where}`;
  }
  const missing = plugin === null ? `no point ${where} is registered now` : `no plugin of module "${plugin}" serves ${where} now`;
  return `pending: ${missing}; the flag is kept and applies when it registers (check the names for a typo)`;
}

function words(text: string): string[] {
  return text.trim().split(/\s+/).filter((w) => w !== '');
}

function healthText(health: HealthReport): string {
  const lines: string[] = [];
  if (health.points.length === 0) lines.push('no point to check');
  for (const p of health.points) {
    const served = p.plugins.length > 0 ? p.plugins.join(', ') : 'no plugins';
    lines.push(`${p.healthy ? 'healthy' : 'unhealthy'}: ${p.module}.${p.point} (${served})`);
  }
  for (const m of health.modules) {
    if (m.status !== 'ok') lines.push(`  ${m.module}: ${m.status}${m.reason !== undefined ? ` (${m.reason})` : ''}`);
  }
  return lines.join('\n');
}

function errorLine(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Adds the commands to a session; `color` as for the session's results. */
export function defineCommands(repl: REPLServer, target: CommandTarget, color: boolean): void {
  const say = (text: string) => {
    repl.output.write(text + '\n');
    repl.displayPrompt();
  };
  const guarded = (action: (args: string) => void | Promise<void>) => (args: string) => {
    try {
      const running = action(args);
      if (running !== undefined) running.catch((err: unknown) => say(errorLine(err)));
    } catch (err) {
      say(errorLine(err));
    }
  };

  repl.defineCommand('report', {
    help: 'Print the report: points with their plugins, flags, counts, last exits, load errors, pending flags',
    action: guarded(() => say(inspect(target.report(), { colors: color }))),
  });
  for (const enabled of [true, false]) {
    const name = enabled ? 'enable' : 'disable';
    repl.defineCommand(name, {
      help: `${enabled ? 'Enable' : 'Disable'} a plugin (with its plugin module) or a point: .${name} ${FLAG_ARGS}`,
      action: guarded((text) => {
        const args = words(text);
        if (args.length === 3) {
          const [plugin, module, point] = args as [string, string, string];
          const outcome = enabled ? target.enablePlugin(plugin, module, point) : target.disablePlugin(plugin, module, point);
          say(flagSentence(outcome, enabled, plugin, module, point));
        } else if (args.length === 2) {
          const [module, point] = args as [string, string];
          const outcome = enabled ? target.enablePoint(module, point) : target.disablePoint(module, point);
          say(flagSentence(outcome, enabled, null, module, point));
        } else {
          say(`usage: .${name} ${FLAG_ARGS} (three names for a plugin, two for a point)`);
        }
      }),
    });
  }
  repl.defineCommand('health', {
    help: `Run the health probes of the plugins serving a point, a module's points or every point: .health ${HEALTH_ARGS}`,
    action: guarded(async (text) => {
      const args = words(text);
      if (args.length > 2) return say(`usage: .health ${HEALTH_ARGS}`);
      say(healthText(await target.health(args[0], args[1])));
    }),
  });
  repl.defineCommand('panel', {
    help: `Start the web panel on 127.0.0.1 (a free port unless given) and print its address, token included: .panel ${PANEL_ARGS}`,
    action: guarded(async (text) => {
      const args = words(text);
      const port = args.length === 1 && /^\d{1,5}$/.test(args[0]!) ? Number(args[0]) : undefined;
      if (args.length > 1 || (args.length === 1 && port === undefined)) return say(`usage: .panel ${PANEL_ARGS}`);
      const panel = await target.servePanel(port === undefined ? {} : { port });
      say(`panel: ${panel.url}\n(open it in a browser on this machine; stop() or the host's exit closes it)`);
    }),
  });
}

/** `.enable`, `.disable` or `.health`, the finished arguments, and the one being typed. */
const COMMAND_LINE = /^\s*\.(enable|disable|health)\s+((?:\S+\s+)*)(\S*)$/;

/** Completes the arguments of the commands; null for any other line. */
export function completeCommand(names: KnownNames, line: string): [string[], string] | null {
  const match = COMMAND_LINE.exec(line);
  if (match === null) return null;
  const [, command, before, partial] = match as unknown as [string, string, string, string];
  const done = words(before);
  let all: Iterable<string>;
  if (command === 'health') {
    if (done.length === 0) all = names.points.keys();
    else if (done.length === 1) all = names.points.get(done[0]!) ?? [];
    else all = [];
  } else if (done.length === 0) {
    all = new Set([...names.plugins.keys(), ...names.points.keys()]);
  } else if (done.length === 1) {
    // After a plugin module: the modules it serves; after a module: its points.
    all = new Set([...(names.plugins.get(done[0]!)?.keys() ?? []), ...(names.points.get(done[0]!) ?? [])]);
  } else if (done.length === 2) {
    all = names.plugins.get(done[0]!)?.get(done[1]!) ?? [];
  } else all = [];
  return [[...all].filter((n) => n.startsWith(partial)).sort(), partial];
}
