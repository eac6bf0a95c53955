/**
 * The hand-made references extpoint is held to: what a call costs when written out by hand for exactly
 * these plugins, doing the same work (a try/catch per plugin, ok and exit counters, one
 * `{ state, info, data }` object per plugin in a fresh array).
 */

/** One counter pair and one shared info per plugin, as extpoint keeps them. */
function counters(count) {
  return Array.from({ length: count }, (_, i) => ({
    ok: 0,
    exit: 0,
    info: Object.freeze({ node: 'local', module: `plug${i}`, fn: 'host_p_Plugin' }),
  }));
}

/**
 * Generated straight-line code (`new Function`): plugin i is called from its own call site, so V8 can
 * inline each one. This is the sync floor.
 */
export function generatedFloor(fns) {
  const c = counters(fns.length);
  const bind = fns.map((_, i) => `f${i} = F[${i}], c${i} = C[${i}], i${i} = c${i}.info`).join(', ');
  const body = fns
    .map(
      (_, i) =>
        `let r${i}; try { const d = f${i}(args); c${i}.ok++; r${i} = { state: 'ok', info: i${i}, data: d }; } ` +
        `catch (e) { c${i}.exit++; r${i} = { state: 'EXIT', info: i${i}, data: e }; }`,
    )
    .join('\n');
  const ret = `return [${fns.map((_, i) => `r${i}`).join(', ')}];`;
  const make = new Function('F', 'C', `'use strict'; const ${bind};\nreturn function floor(args) {\n${body}\n${ret}\n};`);
  return { call: make(fns, c), counters: c };
}

/** The same work as a plain `for` loop over the functions: one call site that sees every plugin. */
export function loopFloor(fns) {
  const c = counters(fns.length);
  const n = fns.length;
  return {
    counters: c,
    call(args) {
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        const ci = c[i];
        try {
          const d = fns[i](args);
          ci.ok++;
          out[i] = { state: 'ok', info: ci.info, data: d };
        } catch (e) {
          ci.exit++;
          out[i] = { state: 'EXIT', info: ci.info, data: e };
        }
      }
      return out;
    },
  };
}

/** The async floor: a `for` loop that awaits each plugin in turn, with the same counters and results. */
export function asyncFloor(fns) {
  const c = counters(fns.length);
  const n = fns.length;
  return {
    counters: c,
    async call(args) {
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        const ci = c[i];
        try {
          const d = await fns[i](args);
          ci.ok++;
          out[i] = { state: 'ok', info: ci.info, data: d };
        } catch (e) {
          ci.exit++;
          out[i] = { state: 'EXIT', info: ci.info, data: e };
        }
      }
      return out;
    },
  };
}
