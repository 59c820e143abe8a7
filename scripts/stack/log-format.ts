// The stack's combined log: one readable line per service line, pino JSON made short.

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** pino JSON → `level msg METHOD url status → backend 1.2ms`; anything else passes through. */
export function formatLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = typeof entry.level === 'number' ? LEVELS[entry.level] : entry.level;
    const req = entry.req as { method?: string; url?: string } | undefined;
    const res = entry.res as { statusCode?: number } | undefined;
    const parts = [String(level ?? ''), String(entry.msg ?? '')];
    if (req?.method) parts.push(`${req.method} ${req.url ?? ''}`);
    else if (typeof entry.method === 'string') parts.push(`${entry.method} ${entry.path ?? entry.url ?? ''}`);
    if (res?.statusCode) parts.push(String(res.statusCode));
    else if (typeof entry.status === 'number') parts.push(String(entry.status));
    if (typeof entry.backend === 'string') parts.push(`→ ${entry.backend}`);
    if (typeof entry.responseTime === 'number') parts.push(`${Math.round(entry.responseTime * 10) / 10}ms`);
    else if (typeof entry.ms === 'number') parts.push(`${entry.ms}ms`);
    if (entry.err && typeof entry.err === 'object')
      parts.push(String((entry.err as { message?: string }).message));
    return parts.filter(Boolean).join(' ');
  } catch {
    return line;
  }
}

const COLORS: Record<string, string> = {
  upstreams: '\x1b[90m',
  cms: '\x1b[35m',
  legacy: '\x1b[33m',
  modern: '\x1b[36m',
  gateway: '\x1b[32m',
  stack: '\x1b[1m',
};

/** `name     | text`, the name coloured when `color` (a terminal). */
export function prefixed(name: string, text: string, color: boolean): string {
  const start = color ? (COLORS[name] ?? '') : '';
  const reset = start ? '\x1b[0m' : '';
  return `${start}${name.padEnd(9)}|${reset} ${text}`;
}
