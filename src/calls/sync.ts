/**
 * Synchronous callers (`callSync`, `notify`) compiled for one point. Up to GENERATED_MAX plugins they are
 * generated straight-line code with a try/catch per plugin (one call site per plugin, which V8 can
 * inline); larger points, profiled ones and processes that refuse code generation (see codegen.ts) use a
 * loop.
 */
import type { PluginResult } from '../core/types.js';
import type { PluginFn, PluginSlot, Tally } from './slot.js';
import { DEPTH_MAX, GENERATED_MAX, isThenable, runnable, tooDeep, type CallTarget } from './target.js';
import { canGenerate, generateFunction } from './codegen.js';
import { follow } from './outcome.js';
import { anyCrossing, asyncInSyncError, compileCrossingSync } from './crossing.js';
import { pluginFns } from './traced.js';

/** A thenable handed to a sync caller: an `EASYNC` exit, and its outcome silenced. */
function asyncInSync(slot: PluginSlot, value: PromiseLike<unknown>): PluginResult {
  try {
    value.then(undefined, () => {});
  } catch {
    // a thenable whose then throws has nothing left to silence
  }
  return slot.fail(asyncInSyncError(slot.info.module, slot.info.fn));
}

/**
 * A thenable handed to `notify`: the caller does not wait, and the plugin counts `ok` when it fulfils,
 * `EXIT` with the reason when it fails (or never, while it never settles).
 */
function notifyLater(slot: PluginSlot, value: PromiseLike<unknown>): void {
  follow(
    value,
    () => {
      slot.ok++;
    },
    (reason) => slot.recordExit(reason),
  );
}

export type SyncCaller = (args: unknown) => PluginResult[];
export type Notifier = (args: unknown) => void;

const noResults: SyncCaller = () => [];
const noop: Notifier = () => {};

export function compileSync(p: CallTarget): SyncCaller {
  const slots = runnable(p);
  if (slots.length === 0) return noResults;
  // plugins on worker nodes cross in batches (crossing.ts); in-process points never take this branch
  if (anyCrossing(slots)) return compileCrossingSync(p, slots);
  if (p.profiling || slots.length > GENERATED_MAX || !canGenerate()) return loopSync(p, slots, false);
  return generate(p, slots, 'results') as SyncCaller;
}

export function compileNotify(p: CallTarget): Notifier {
  const slots = runnable(p);
  if (slots.length === 0) return noop;
  if (p.profiling || slots.length > GENERATED_MAX || !canGenerate()) {
    const call = loopSync(p, slots, true);
    return (args) => void call(args);
  }
  return generate(p, slots, 'notify') as Notifier;
}

/**
 * Straight-line code for a few plugins: `f0..fn` are the plugin functions, `s0..sn` their slots, `i0..in`
 * their shared infos, `T` the caller's tally (one count per call; a failing plugin takes its ok back).
 * With `results` it returns one result per plugin; with `notify`, nothing. `P` is the point, whose
 * `depth` counts the calls of it on the stack.
 */
function generate(p: CallTarget, slots: PluginSlot[], mode: 'results' | 'notify'): SyncCaller | Notifier {
  const n = slots.length;
  const tally: Tally = { calls: 0, slots };
  p.tallies.push(tally);
  const bind: string[] = [];
  const body: string[] = [`if (P.depth >= ${DEPTH_MAX}) throw tooDeep(S);`];
  if (mode === 'results') body.push(`let ${slots.map((_, i) => `r${i}`).join(', ')};`);
  body.push('P.depth++;', 'try {', 'T.calls++;');
  const thenable = `d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d.then === 'function'`;
  for (let i = 0; i < n; i++) {
    bind.push(`f${i} = F[${i}], s${i} = S[${i}], i${i} = s${i}.info`);
    if (mode === 'results') {
      body.push(
        `try { const d = f${i}(args); if (${thenable}) { s${i}.ok--; r${i} = asyncInSync(s${i}, d); } ` +
          `else r${i} = { state: 'ok', info: i${i}, data: d }; } catch (e) { s${i}.ok--; r${i} = s${i}.fail(e); }`,
      );
    } else {
      body.push(
        `try { const d = f${i}(args); if (${thenable}) { s${i}.ok--; later(s${i}, d); } } ` +
          `catch (e) { s${i}.ok--; s${i}.recordExit(e); }`,
      );
    }
  }
  // the depth comes back down on the way out; only a stack overflow in the bookkeeping could throw past it
  body.push('P.depth--;', '} catch (e) { P.depth--; throw e; }');
  if (mode === 'results') body.push(`return [${slots.map((_, i) => `r${i}`).join(', ')}];`);
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function dispatch(args) {\n${body.join('\n')}\n};`;
  const factory = generateFunction(['F', 'S', 'T', 'P', 'asyncInSync', 'later', 'tooDeep'], source, slots) as (
    fns: PluginFn[],
    slots: PluginSlot[],
    tally: Tally,
    point: CallTarget,
    asyncInSync: (slot: PluginSlot, value: PromiseLike<unknown>) => PluginResult,
    later: typeof notifyLater,
    deep: typeof tooDeep,
  ) => SyncCaller | Notifier;
  return factory(
    pluginFns(p, slots, mode === 'results' ? 'callSync' : 'notify'),
    slots,
    tally,
    p,
    asyncInSync,
    notifyLater,
    tooDeep,
  );
}

/** The sync caller as a loop, for large and profiled points; for `notify`, thenables count when they settle. */
function loopSync(p: CallTarget, slots: PluginSlot[], notify: boolean): SyncCaller {
  const fns = pluginFns(p, slots, notify ? 'notify' : 'callSync');
  const n = slots.length;
  const profiling = p.profiling;
  return (args) => {
    if (p.depth >= DEPTH_MAX) throw tooDeep(slots);
    p.depth++;
    try {
      const out = new Array<PluginResult>(n);
      for (let i = 0; i < n; i++) {
        const s = slots[i]!;
        const t0 = profiling ? performance.now() : 0;
        try {
          const d = fns[i]!.call(undefined, args);
          if (!isThenable(d)) {
            s.ok++;
            out[i] = { state: 'ok', info: s.info, data: d };
          } else if (notify) notifyLater(s, d);
          else out[i] = asyncInSync(s, d);
        } catch (e) {
          out[i] = s.fail(e);
        }
        if (profiling) s.timed(performance.now() - t0);
      }
      return out;
    } finally {
      p.depth--;
    }
  };
}
