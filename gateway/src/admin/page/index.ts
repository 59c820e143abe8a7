import { readFile } from 'node:fs/promises';
import { GatewayError } from '../../errors.ts';
import { type AdminRouter, RawReply } from '../types.ts';
import { type CacheScrape, scrapeCache } from './cache.ts';

/**
 * The migration control page, mounted on the admin server:
 *
 * - `GET /admin/ui` (and `/ui`, `/admin/ui/`): the page; `GET /admin/ui/static/<file>` its
 *   script and stylesheet. These are public like /healthz: they carry no data. Everything the
 *   page shows or changes goes through the token-protected admin API (/admin/table,
 *   /admin/stats, /admin/routes/:id/…, /admin/shadow/samples, /admin/audit), so without the
 *   token the page shows nothing and every action is refused by the server (401).
 * - `GET /admin/ui/cache` (token): cache hit ratio per backend, scraped from each configured
 *   backend's own `/metrics` (`cache_events_total{kind}` of @pilot/service-kit). Only the
 *   backends of the active table and only their `/metrics` path: never an open proxy.
 *
 * No framework, no build step, no CDN: three files in ./static, served with a strict CSP.
 */
const STATIC_DIR = new URL('./static/', import.meta.url);

/** The only files served: a Map, so no name (`__proto__`, `../x`) can reach anything else. */
const FILES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['app.css', 'text/css; charset=utf-8'],
]);

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Read once, on first use (the files are small and ship with the code). */
const cache = new Map<string, Buffer>();
async function load(name: string): Promise<Buffer> {
  let body = cache.get(name);
  if (!body) {
    body = await readFile(new URL(name, STATIC_DIR));
    cache.set(name, body);
  }
  return body;
}

async function sendFile(name: string): Promise<RawReply> {
  const type = FILES.get(name);
  if (!type) throw new GatewayError('NOT_FOUND', 404, 'no such file');
  const body = await load(name);
  return new RawReply(
    200,
    {
      'content-type': type,
      'content-length': body.length,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    },
    body,
  );
}

export const CONTROL_PAGE_PATH = '/admin/ui';

/** Mounts the control page and its read endpoint on the admin server. */
export function registerControlPage(admin: AdminRouter): void {
  const gw = admin.control;
  const page = () => sendFile('index.html');
  admin.route('GET', CONTROL_PAGE_PATH, page, { public: true });
  admin.route('GET', '/ui', () => new RawReply(302, { location: CONTROL_PAGE_PATH }, ''), { public: true });
  admin.route('GET', `${CONTROL_PAGE_PATH}/static/:file`, ({ params }) => sendFile(params.file ?? ''), {
    public: true,
  });

  let last: { at: number; value: Promise<CacheScrape> } | null = null;
  admin.route('GET', `${CONTROL_PAGE_PATH}/cache`, () => {
    // Several open pages share one scrape per 2 s: the services are not polled harder than that.
    const now = Date.now();
    if (!last || now - last.at > 2000) {
      const backends = [...gw.table.backends.values()].map((b) => ({ name: b.name, url: b.url }));
      last = { at: now, value: scrapeCache(backends) };
    }
    return last.value;
  });
}
