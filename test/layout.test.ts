/**
 * The shape of src/: imports point one way (core <- calls <- registry <- modules, operator <- the facade
 * and entry points), with no import circle, so each folder can be read without the ones above it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');
/** Each folder's floor; a file may import its own floor and those below. Top-level files sit above all. */
const FLOOR: Record<string, number> = { core: 0, calls: 1, trace: 1, cluster: 1, registry: 2, modules: 3, nodes: 3, state: 3, operator: 4, panel: 4, install: 4 };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
    normalize(join(dirname(file), `${m[1]}.ts`)),
  );
}

const graph = new Map(sources(SRC).map((f) => [f, importsOf(f)]));
const folderOf = (file: string) => {
  const parts = relative(SRC, file).split(/[\\/]/);
  return parts.length > 1 ? parts[0]! : null;
};

describe('src layout', () => {
  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, f)} -> ${relative(SRC, d)}`));
    expect(missing).toEqual([]);
  });

  it('has no import circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (f: string, path: string[]) => {
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') circles.push([...path.slice(path.indexOf(d)), d].map((p) => relative(SRC, p)).join(' -> '));
        else if (!state.has(d)) visit(d, [...path, d]);
      }
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f, [f]);
    expect(circles).toEqual([]);
  });

  it('imports point down: no folder imports a higher floor or a top-level file', () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      const from = folderOf(f);
      if (from === null) continue;
      for (const d of deps) {
        const to = folderOf(d);
        if (to === null || (FLOOR[to] ?? 99) > (FLOOR[from] ?? 99)) upward.push(`${relative(SRC, f)} -> ${relative(SRC, d)}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
