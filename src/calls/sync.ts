/**
 * Synchronous callers (`callSync`, `notify`) compiled for one point. Up to GENERATED_MAX plugins they are
 * generated straight-line code with a try/catch per plugin (one call site per plugin, which V8 can
 * inline); larger points, profiled ones and processes that refuse code generation (see codegen.ts) use a
 * loop.
 */
import type { PluginResult } from '../core/types.js';
import type { PluginFn, PluginSlot, Tally } from './slot.js';
import { GENERATED_MAX, isThenable, runnable, type CallTarget } from './target.js';
import { canGenerate, generateFunction } from './codegen.js';

/** A thenable handed to a sync caller: an `EASYNC` exit, and its outcome silenced. */
function asyncInSync(slot: PluginSlot, value: PromiseLike<unknown>): PluginResult {
  try {
    value.then(undefined, () => {});
  } catch {
    // a thenable whose then throws has nothing left to silence
  }
  const err = Object.assign(
    new Error(
      `plugin ${slot.info.module}.${slot.info.fn} returned a promise to a synchronous call; ` +
        'call the point with callPlugins (or point().call) to await async plugins',
    ),
    { code: 'EASYNC' },
  );
  return slot.fail(err);
}


export type SyncCaller = (args: unknown) => PluginResult[];
export type Notifier = (args: unknown) => void;

const noResults: SyncCaller = () => [];
const noop: Notifier = () => {};

export function compileSync(p: CallTarget): SyncCaller {
  const slots = runnable(p);
  if (slots.length === 0) return noResults;
  if (p.profiling || slots.length > GENERATED_MAX || !canGenerate()) return loopSync(slots, p.profiling);
  return generate(p, slots, 'results') as SyncCaller;
}

export function compileNotify(p: CallTarget): Notifier {
  const slots = runnable(p);
  if (slots.length === 0) return noop;
  if (p.profiling || slots.length > GENERATED_MAX || !canGenerate()) {
    const call = loopSync(slots, p.profiling);
    return (args) => void call(args);
  }
  return generate(p, slots, 'notify') as Notifier;
}

/**
 * Straight-line code for a few plugins: `f0..fn` are the plugin functions, `s0..sn` their slots, `i0..in`
 * their shared infos, `T` the caller's tally (one count per call; a failing plugin takes its ok back).
 * With `results` it returns one result per plugin; with `notify`, nothing.
 */
function generate(p: CallTarget, slots: PluginSlot[], mode: 'results' | 'notify'): SyncCaller | Notifier {
  const n = slots.length;
  const tally: Tally = { calls: 0, slots };
  p.tallies.push(tally);
  const bind: string[] = [];
  const body: string[] = ['T.calls++;'];
  const thenable = `d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d.then === 'function'`;
  for (let i = 0; i < n; i++) {
    bind.push(`f${i} = F[${i}], s${i} = S[${i}], i${i} = s${i}.info`);
    if (mode === 'results') {
      body.push(
        `let r${i}; try { const d = f${i}(args); if (${thenable}) { s${i}.ok--; r${i} = asyncInSync(s${i}, d); } ` +
          `else r${i} = { state: 'ok', info: i${i}, data: d }; } catch (e) { s${i}.ok--; r${i} = s${i}.fail(e); }`,
      );
    } else {
      body.push(
        `try { const d = f${i}(args); if (${thenable}) { s${i}.ok--; asyncInSync(s${i}, d); } } ` +
          `catch (e) { s${i}.ok--; s${i}.recordExit(e); }`,
      );
    }
  }
  if (mode === 'results') body.push(`return [${slots.map((_, i) => `r${i}`).join(', ')}];`);
  const fns = slots.map((s) => s.impl as PluginFn);
  const source = `'use strict'; const ${bind.join(', ')};\nreturn function dispatch(args) {\n${body.join('\n')}\n};`;
  const factory = generateFunction(['F', 'S', 'T', 'asyncInSync'], source, slots) as (
    fns: PluginFn[],
    slots: PluginSlot[],
    tally: Tally,
    asyncInSync: (slot: PluginSlot, value: PromiseLike<unknown>) => PluginResult,
  ) => SyncCaller | Notifier;
  return factory(fns, slots, tally, asyncInSync);
}

function loopSync(slots: PluginSlot[], profiling: boolean): SyncCaller {
  const fns = slots.map((s) => s.impl as PluginFn);
  const n = slots.length;
  return (args) => {
    const out = new Array<PluginResult>(n);
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const t0 = profiling ? performance.now() : 0;
      try {
        const d = fns[i]!.call(undefined, args);
        if (isThenable(d)) out[i] = asyncInSync(s, d);
        else {
          s.ok++;
          out[i] = { state: 'ok', info: s.info, data: d };
        }
      } catch (e) {
        out[i] = s.fail(e);
      }
      if (profiling) s.timed(performance.now() - t0);
    }
    return out;
  };
}
