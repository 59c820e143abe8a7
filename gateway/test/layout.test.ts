import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The source layout's rules, checked on the import statements (type imports included):
 * the request path (pipeline/) never reaches into the control plane or the admin side; the
 * admin side talks to the control plane, never to the pipeline or the wiring; no import cycles.
 */
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of a file, as paths under src/ (`pipeline/match.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g,
  )) {
    out.push(relative(SRC, resolve(dirname(file), (m[1] ?? m[2])!)));
  }
  return out;
}

const graph = new Map(sources(SRC).map((f) => [relative(SRC, f), importsOf(f)]));

function offending(folder: string, forbidden: (target: string) => boolean): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith(folder)) continue;
    for (const t of targets) if (forbidden(t)) out.push(`${file} → ${t}`);
  }
  return out;
}

describe('source layout', () => {
  it('reads the graph it checks', () => {
    expect(graph.get('pipeline/handler.ts')).toContain('pipeline/match.ts');
    expect(graph.get('admin/server.ts')).toContain('control/plane.ts');
  });

  it('nothing in pipeline/ imports control/, admin/ or the wiring', () => {
    const wiring = new Set(['gateway.ts', 'index.ts', 'server.ts']);
    expect(
      offending('pipeline/', (t) => t.startsWith('control/') || t.startsWith('admin/') || wiring.has(t)),
    ).toEqual([]);
  });

  it('admin/ depends on the control plane, never on the pipeline or the wiring', () => {
    const wiring = new Set(['gateway.ts', 'index.ts', 'server.ts']);
    expect(offending('admin/', (t) => t.startsWith('pipeline/') || wiring.has(t))).toEqual([]);
  });

  it('control/ and shadow/ never import the wiring', () => {
    const wiring = new Set(['gateway.ts', 'index.ts', 'server.ts']);
    expect(offending('control/', (t) => wiring.has(t) || t.startsWith('admin/'))).toEqual([]);
    expect(offending('shadow/', (t) => wiring.has(t) || t.startsWith('admin/'))).toEqual([]);
  });

  it('no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (v: string) => {
      state.set(v, 1);
      stack.push(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (state.get(w) === 1) cycles.push([...stack.slice(stack.indexOf(w)), w].join(' → '));
        else if (!state.has(w)) visit(w);
      }
      stack.pop();
      state.set(v, 2);
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
