import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { TableError, type TableIssue } from '../errors.ts';
import type { BackendSpec } from '../table.ts';
import { type TableConfig, tableSchema } from './schema.ts';

/** A short content hash: the table file's version and the effective table's. */
export function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Read the route table (YAML, or JSON which is YAML too),
 * validate it with zod and resolve backend URLs (with their `urlEnv` overrides).
 * Every problem is reported with its file, line, column and field path.
 */
export interface LoadedTable {
  config: TableConfig;
  backends: Map<string, BackendSpec>;
  fileVersion: string;
  text: string;
}

export type Env = Record<string, string | undefined>;

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

export function parseTable(text: string, file: string, env: Env = {}): LoadedTable {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new TableError(
      file,
      doc.errors.map((e) => ({
        path: '',
        message: e.message.split('\n')[0]!,
        line: e.linePos?.[0]?.line,
        column: e.linePos?.[0]?.col,
      })),
    );
  }
  const raw = doc.toJS();
  const result = tableSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues: TableIssue[] = result.error.issues.map((issue) => {
      // Point at the deepest node that exists: a missing field is reported at its parent.
      let node: unknown;
      for (let n = issue.path.length; n >= 0 && !isNode(node); n--) {
        node = n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n) as unknown[], true);
      }
      const pos = isNode(node) && node.range ? lineCounter.linePos(node.range[0]) : undefined;
      return { path: formatPath(issue.path), message: issue.message, line: pos?.line, column: pos?.col };
    });
    throw new TableError(file, issues);
  }
  const config = result.data;
  const backends = new Map<string, BackendSpec>();
  const issues: TableIssue[] = [];
  for (const [name, backend] of Object.entries(config.backends)) {
    let url = backend.url;
    const fromEnv = backend.urlEnv ? env[backend.urlEnv] : undefined;
    if (fromEnv) url = fromEnv;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
    } catch {
      issues.push({
        path: `backends.${name}.url`,
        message: `${fromEnv ? `${backend.urlEnv}=` : ''}"${url}" is not an http(s) URL`,
      });
      continue;
    }
    backends.set(name, { name, url: parsed, config: backend });
  }
  if (issues.length > 0) throw new TableError(file, issues);
  return { config, backends, fileVersion: hash(text), text };
}

export async function loadTableFile(file: string, env: Env = {}): Promise<LoadedTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TableError(file, [{ path: '', message: `cannot read: ${(error as Error).message}` }]);
  }
  return parseTable(text, file, env);
}
