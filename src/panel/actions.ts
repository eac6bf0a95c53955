/**
 * What the panel's buttons do: enable or disable a plugin or a point, run a point's health probes. Each
 * action is recorded in the report's `status.operatorActions` with `source: 'panel'`, whatever came of it.
 */
import type { FlagOutcome } from '../core/types.js';
import type { OperatorAction } from '../core/history.js';
import type { HealthReport } from '../calls/health.js';
import { toJson, type Json } from '../operator/report-json.js';

/** The calls of an extension that the panel's actions use. */
export interface ActionTarget {
  enablePlugin(pluginModule: string, module: string, point: string): FlagOutcome;
  disablePlugin(pluginModule: string, module: string, point: string): FlagOutcome;
  enablePoint(module: string, point: string): FlagOutcome;
  disablePoint(module: string, point: string): FlagOutcome;
  health(module?: string, point?: string): Promise<HealthReport>;
}

/** Records an operator action in the extension's history. */
export type RecordAction = (action: Omit<OperatorAction, 'n' | 'at'>) => void;

const FLAG_ACTIONS = ['enablePlugin', 'disablePlugin', 'enablePoint', 'disablePoint'] as const;
const ACTIONS: readonly string[] = [...FLAG_ACTIONS, 'health'];

/** An action's answer: an HTTP status and a JSON body. */
export interface ActionAnswer {
  status: number;
  body: { outcome: string; health?: Json } | { error: string };
}

function field(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new TypeError(`the action needs "${key}" as a string`);
  return value;
}

/** Runs the action `body` asks for (`{ action, plugin?, module, point }`) and records it. */
export async function runAction(target: ActionTarget, record: RecordAction, body: unknown): Promise<ActionAnswer> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { status: 400, body: { error: 'the body must be a JSON object { action, plugin?, module, point }' } };
  }
  const fields = body as Record<string, unknown>;
  const action = fields.action;
  if (typeof action !== 'string' || !ACTIONS.includes(action)) {
    return { status: 400, body: { error: `"action" must be one of ${ACTIONS.join(', ')}` } };
  }
  let what = '';
  try {
    const module = field(fields, 'module');
    const point = field(fields, 'point');
    what = `${module}.${point}`;
    if (action === 'health') {
      const health = await target.health(module, point);
      const outcome = health.healthy ? 'healthy' : 'unhealthy';
      record({ source: 'panel', action, target: what, outcome });
      return { status: 200, body: { outcome, health: toJson(health) } };
    }
    let outcome: FlagOutcome;
    if (action === 'enablePlugin' || action === 'disablePlugin') {
      const plugin = field(fields, 'plugin');
      what = `${plugin} on ${what}`;
      outcome = action === 'enablePlugin' ? target.enablePlugin(plugin, module, point) : target.disablePlugin(plugin, module, point);
    } else {
      outcome = action === 'enablePoint' ? target.enablePoint(module, point) : target.disablePoint(module, point);
    }
    record({ source: 'panel', action, target: what, outcome });
    return { status: 200, body: { outcome } };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    record({ source: 'panel', action, target: what, outcome: `error: ${message}` });
    return { status: 400, body: { error: message } };
  }
}
