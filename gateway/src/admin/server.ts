import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { actorOf, tokenMatches } from './auth.ts';
import { registerAdminRoutes } from './routes.ts';

/**
 * The admin server: its own port, JSON in and out, every /admin route behind the bearer token
 * (no token configured → those routes answer 403 ADMIN_DISABLED). /metrics, /healthz and
 * /readyz are open, for scrapers and orchestrators on the internal network.
 * Other modules (the control page) add routes with `route()`.
 */
export interface AdminRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  actor: { who: string; ip: string };
  /** Parses the JSON body (≤ 64 KiB); `{}` when empty. */
  body(): Promise<Record<string, unknown>>;
}

/** Return a value to send it as JSON (200), or `undefined` after writing the response yourself. */
export type AdminHandler = (r: AdminRequest) => Promise<unknown> | unknown;

interface AdminRoute {
  method: string;
  re: RegExp;
  keys: string[];
  handler: AdminHandler;
  public: boolean;
}

export class AdminServer {
  readonly server: http.Server;
  readonly gateway: Gateway;
  private readonly token: string | undefined;
  private readonly routes: AdminRoute[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(gateway: Gateway, token: string | undefined) {
    this.gateway = gateway;
    this.token = token && token.length > 0 ? token : undefined;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    registerAdminRoutes(this);
  }

  get enabled(): boolean {
    return this.token !== undefined;
  }

  /** Adds a route; `:name` segments become params. Non-public routes need the token. */
  route(method: string, path: string, handler: AdminHandler, options: { public?: boolean } = {}): void {
    const keys: string[] = [];
    const src = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_m, k: string) => {
      keys.push(k);
      return '([^/]+)';
    });
    this.routes.push({
      method,
      re: new RegExp(`^${src}/?$`),
      keys,
      handler,
      public: options.public === true,
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    let matched: AdminRoute | undefined;
    let params: Record<string, string> = {};
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.re.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method && !(route.method === 'GET' && req.method === 'HEAD')) continue;
      matched = route;
      params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      break;
    }
    try {
      if (!matched) {
        throw pathMatched
          ? new GatewayError('METHOD_NOT_ALLOWED', 405, `${req.method} not allowed here`)
          : new GatewayError('NOT_FOUND', 404, 'no such admin endpoint');
      }
      if (!matched.public) {
        if (!this.token)
          throw new GatewayError('ADMIN_DISABLED', 403, 'admin API disabled: GATEWAY_ADMIN_TOKEN is not set');
        if (!tokenMatches(req.headers.authorization, this.token)) {
          this.gateway.logger.warn(
            { ip: req.socket.remoteAddress, path: url.pathname },
            'admin: refused token',
          );
          res.setHeader('www-authenticate', 'Bearer realm="pilot-gateway"');
          throw new GatewayError('UNAUTHORIZED', 401, 'missing or wrong bearer token');
        }
      }
      const result = await matched.handler({
        req,
        res,
        params,
        query: url.searchParams,
        actor: actorOf(req),
        body: () => readJson(req),
      });
      if (result !== undefined && !res.headersSent) sendJson(res, 200, result);
    } catch (error) {
      const e = error instanceof GatewayError ? error : null;
      if (!e) this.gateway.logger.error({ err: (error as Error).message }, 'admin handler failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = e?.status ?? 500;
      const body: Record<string, unknown> = {
        status,
        code: e?.code ?? 'INTERNAL',
        message: e ? e.message : 'internal error',
      };
      if (error && typeof error === 'object' && 'issues' in error)
        body.issues = (error as { issues: unknown }).issues;
      sendJson(res, status, { error: body });
    }
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of this.sockets) s.destroy();
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new GatewayError('PAYLOAD_TOO_LARGE', 413, 'admin request body over 64 KiB');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new GatewayError('INVALID_JSON', 400, 'request body must be a JSON object');
  }
}
