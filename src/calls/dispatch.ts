/**
 * Per-point callers, compiled from the registry's state of that point and dropped whenever it changes.
 *
 * A point's dispatchers start as stubs; the first call of each compiles it and installs the compiled one
 * in its place, so a registry change costs nothing until the point is called again, and a call does no
 * lookup of flags or plugins: they are baked into the compiled code. A compiled caller keeps the plugin
 * functions it was built with, so a call in flight finishes on the versions it started with.
 *
 * Sync callers of up to GENERATED_MAX plugins are generated straight-line code with a try/catch per
 * plugin (one call site per plugin, which V8 can inline); larger points and profiled ones use a loop.
 *
 * Points with plugins on other nodes get callers that batch each node's plugins (crossing-call.ts,
 * crossing-pipe.ts); the others get exactly the in-process callers.
 *
 * While extpoint's tracing channels have subscribers, the callers are compiled traced (traced.ts); the
 * registry drops every compiled caller when that changes.
 */
import type { CallTarget } from './target.js';
import { compileNotify, compileSync } from './sync.js';
import { callerOf } from './crossing-call.js';
import { pipeCallerOf } from './crossing-pipe.js';
import { tracedAsync, tracedSync } from './traced.js';

/** Resets a point's dispatchers to stubs that compile on first use and mark the point as called. */
export function installStubs(p: CallTarget): void {
  p.callSync = (args) => {
    p.called = true;
    return (p.callSync = tracedSync(p, 'callSync', compileSync(p)))(args);
  };
  p.notify = (args) => {
    p.called = true;
    (p.notify = tracedSync(p, 'notify', compileNotify(p)))(args);
  };
  p.call = (args, opts) => {
    p.called = true;
    return (p.call = tracedAsync(p, 'call', callerOf(p)))(args, opts);
  };
  p.pipe = (state, opts) => {
    p.called = true;
    return (p.pipe = tracedAsync(p, 'pipe', pipeCallerOf(p)))(state, opts);
  };
}
