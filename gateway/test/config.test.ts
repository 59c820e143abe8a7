import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTES_FILE, loadTableFile, parseTable, TableError } from '../src/index.ts';
import { table } from './helpers.ts';

function issuesOf(text: string, env = {}) {
  try {
    parseTable(text, 'routes.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(TableError);
    return error as TableError;
  }
  throw new Error('expected the table to be refused');
}

describe('route table loading and validation', () => {
  it('loads the default table: the migration story', async () => {
    const loaded = await loadTableFile(DEFAULT_ROUTES_FILE, {});
    expect(loaded.backends.get('legacy')!.url.href).toBe('http://127.0.0.1:3001/');
    expect(loaded.backends.get('modern')!.url.href).toBe('http://127.0.0.1:3002/');
    const routes = Object.fromEntries(loaded.config.routes.map((r) => [r.id, r]));
    expect(routes.articles).toMatchObject({ path: '/articles*', backend: 'modern' });
    expect(routes.subscribers!.split).toEqual({ legacy: 90, modern: 10 });
    expect(routes.aggregate).toMatchObject({ backend: 'legacy', shadow: { backend: 'modern' } });
    expect(routes.default).toMatchObject({ path: '/*', backend: 'legacy' });
  });

  it('takes backend URLs from LEGACY_URL / MODERN_URL', async () => {
    const loaded = await loadTableFile(DEFAULT_ROUTES_FILE, {
      LEGACY_URL: 'http://10.0.0.1:9001',
      MODERN_URL: 'http://10.0.0.2:9002',
    });
    expect(loaded.backends.get('legacy')!.url.host).toBe('10.0.0.1:9001');
    expect(loaded.backends.get('modern')!.url.host).toBe('10.0.0.2:9002');
  });

  it('refuses an env URL that is not http(s), naming the variable', () => {
    const e = issuesOf(table('routes: [{ id: a, path: /*, backend: legacy }]'), { LEGACY_URL: 'ftp://x' });
    expect(e.message).toContain('LEGACY_URL="ftp://x" is not an http(s) URL');
  });

  it('names the line of a YAML syntax error', () => {
    const e = issuesOf('backends:\n  legacy: { url: http://x\nroutes: []\n');
    expect(e.issues[0]!.line).toBeGreaterThanOrEqual(2);
    expect(e.message).toMatch(/routes\.yaml:\d+:\d+/);
  });

  it('names field and line of schema errors', () => {
    const text = table(`routes:
  - id: subscribers
    path: /subscribers
    split: { legacy: 90, modern: 5 }
  - id: other
    path: /other
    backend: nowhere
  - id: third
    path: no-slash
    backend: legacy
    colour: blue
`);
    const e = issuesOf(text);
    const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i]));
    expect(byPath['routes[0].split']).toMatchObject({
      line: 7,
      message: 'weights must add up to 100 (they add up to 95)',
    });
    expect(byPath['routes[1].backend']).toMatchObject({ line: 10, message: 'unknown backend "nowhere"' });
    expect(byPath['routes[2].path']!.line).toBe(12);
    expect(byPath['routes[2]']!.message).toMatch(/colour/);
    expect(e.message).toContain('routes.yaml:7:12 routes[0].split: weights must add up to 100');
  });

  it('refuses a route with both backend and split, duplicate ids, and a missing backends section', () => {
    expect(
      issuesOf(table('routes: [{ id: a, path: /, backend: legacy, split: { legacy: 100 } }]')).message,
    ).toContain('exactly one of "backend" or "split"');
    expect(
      issuesOf(table('routes: [{ id: a, path: /a, backend: legacy }, { id: a, path: /b, backend: legacy }]'))
        .message,
    ).toContain('duplicate route id "a"');
    expect(issuesOf('routes: [{ id: a, path: /, backend: legacy }]').issues[0]!.path).toBe('backends');
  });
});
