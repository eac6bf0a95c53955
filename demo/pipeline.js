// The MishkaInstaller side of extpoint: a pipeline. Each plugin receives the state and returns the next;
// `depends` and `priority` decide the order; `halt` stops the chain early.
import { createExtension, definePlugin, halt } from '../dist/index.js';

export async function pipelineDemo(log = console.log) {
  const ext = createExtension({ scanLoaded: false });

  // Runs first by priority, but depends on `double`, so it waits for it: 5 doubled, then incremented.
  ext.registerModule('increment', {
    calc_run_Plugin: definePlugin((n) => n + 1, { priority: 1, depends: ['double'] }),
  });
  ext.registerModule('double', {
    calc_run_Plugin: definePlugin((n) => n * 2, { priority: 2 }),
  });
  log('pipe(calc, run, 5) ->', await ext.pipe('calc', 'run', 5));

  // A guard that halts the chain for large values: the plugins after it do not run.
  ext.registerModule('guard', {
    calc_run_Plugin: definePlugin((n) => (n > 100 ? halt('too large') : n), { priority: 0 }),
  });
  log('pipe(calc, run, 500) ->', await ext.pipe('calc', 'run', 500));

  // Without `double`, `increment` is held until its dependency comes back.
  ext.unregisterModule('double');
  const held = ext.report().plugins.find((p) => p.module === 'increment');
  log(`without double: increment is held by ${held.heldBy}; pipe(calc, run, 5) ->`, await ext.pipe('calc', 'run', 5));
  return ext;
}

if (import.meta.url === `file://${process.argv[1]}`) await pipelineDemo();
