import type { AddressInfo, Socket } from 'node:net';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type HTTPMethods,
} from 'fastify';
import type { ControlPlane } from '../control/plane.ts';
import {
  answerAndClose,
  drainBounded,
  GatewayError,
  MAX_DRAIN_BYTES,
  rawErrorResponse,
  refuseExpectation,
} from '../errors.ts';
import { actorOf, tokenMatches } from './auth.ts';
import { type AdminHandler, type AdminRouter, RawReply } from './types.ts';
import { registerAdminRoutes } from './routes.ts';

/**
 * The admin server: its own port, JSON in and out, on Fastify (find-my-way routing, its body
 * limit, its error handling). Every route is behind the bearer token unless registered as
 * public (/metrics, /healthz, /readyz and the control page's files); the token is checked in
 * the first hook, before any handler or body parser runs, so an unknown path without the token
 * is a 401, not a 404 (no endpoint discovery). No token configured → 403 ADMIN_DISABLED.
 *
 * Every failure becomes the error envelope: a malformed URL (Fastify's FST_ERR_BAD_URL), a
 * body over 64 KiB, a handler that throws or rejects, bytes the HTTP parser refuses. Nothing a
 * client sends can end the process or leave a request unanswered.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the admin token. */
    public?: boolean;
  }
}

const ADMIN_BODY_LIMIT = 64 * 1024;

export class AdminServer implements AdminRouter {
  readonly app: FastifyInstance;
  readonly control: ControlPlane;
  private readonly token: string | undefined;

  constructor(control: ControlPlane, token: string | undefined) {
    this.control = control;
    this.token = token && token.length > 0 ? token : undefined;
    const logger = control.logger;
    this.app = Fastify({
      logger: false,
      bodyLimit: ADMIN_BODY_LIMIT,
      forceCloseConnections: true,
      return503OnClosing: true,
      // checked in onRequest instead, so that the refusal is an envelope (Node's own is bare)
      http: { requireHostHeader: false },
      routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
      // find-my-way could not decode the path (`%zz`): answered here, before any route runs
      frameworkErrors: (_error, _req, reply) => {
        void sendEnvelope(reply, 400, 'BAD_REQUEST_TARGET', 'malformed percent-encoding in path');
      },
      clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
        if (err.code === 'ECONNRESET' || !socket.writable) {
          socket.destroy();
          return;
        }
        answerAndClose(socket, clientErrorResponse(err));
      },
    });

    // an Expect other than 100-continue never reaches Fastify: the envelope instead of Node's bare 417
    this.app.server.on('checkExpectation', refuseExpectation);

    // Bodies are read as bytes whatever their type and parsed by body(), so that every handler
    // sees the same rules (JSON object or nothing) and no parser runs before the token check.
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    this.app.addHook('onRequest', (request, reply, done) => {
      const raw = request.raw;
      if (raw.httpVersionMajor === 1 && raw.httpVersionMinor === 1 && raw.headers.host === undefined) {
        void sendEnvelope(reply, 400, 'BAD_REQUEST', 'HTTP/1.1 request without Host');
        return;
      }
      const isPublic = request.routeOptions.config?.public === true;
      if (isPublic) return done();
      if (!this.token) {
        void sendEnvelope(reply, 403, 'ADMIN_DISABLED', 'admin API disabled: GATEWAY_ADMIN_TOKEN is not set');
        return;
      }
      if (!tokenMatches(request.headers.authorization, this.token)) {
        logger.warn({ ip: request.socket.remoteAddress, path: pathOf(request.url) }, 'admin: refused token');
        reply.header('www-authenticate', 'Bearer realm="pilot-gateway"');
        void sendEnvelope(reply, 401, 'UNAUTHORIZED', 'missing or wrong bearer token');
        return;
      }
      done();
    });

    this.app.setNotFoundHandler((request, reply) => {
      const allowed = this.allowedMethods(pathOf(request.url));
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '));
        return sendEnvelope(reply, 405, 'METHOD_NOT_ALLOWED', `${request.method} not allowed here`);
      }
      return sendEnvelope(reply, 404, 'NOT_FOUND', 'no such admin endpoint');
    });

    this.app.setErrorHandler((error: unknown, request, reply) => {
      if (error instanceof GatewayError) {
        const extra =
          'issues' in error ? { issues: (error as GatewayError & { issues: unknown }).issues } : {};
        return sendEnvelope(reply, error.status, error.code, error.message, extra);
      }
      const e = error as { statusCode?: number; code?: string; message?: string };
      // Fastify's own client errors (body too large, bad content length, aborted upload)
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
        if (e.statusCode === 413 && Number(request.headers['content-length'] ?? -1) <= MAX_DRAIN_BYTES) {
          // read the rest and drop it, so the client can read the answer (see drainBounded)
          reply.removeHeader('connection');
          drainBounded(request.raw);
        }
        const code = e.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
        const message =
          e.statusCode === 413 ? `admin request body over ${ADMIN_BODY_LIMIT / 1024} KiB` : 'bad request';
        return sendEnvelope(reply, e.statusCode, code, message);
      }
      logger.error({ err: e?.message ?? String(error), path: pathOf(request.url) }, 'admin handler failed');
      return sendEnvelope(reply, 500, 'INTERNAL', 'internal error');
    });

    registerAdminRoutes(this);
  }

  get enabled(): boolean {
    return this.token !== undefined;
  }

  get server() {
    return this.app.server;
  }

  /** Adds a route; `:name` segments become params. Non-public routes need the token. */
  route(method: string, path: string, handler: AdminHandler, options: { public?: boolean } = {}): void {
    this.app.route({
      method: method as HTTPMethods,
      url: path,
      config: { public: options.public === true },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const result = await handler({
          params: (request.params ?? {}) as Record<string, string>,
          query: queryOf(request.url),
          headers: request.headers,
          actor: actorOf(request.raw),
          body: async () => parseBody(request.body),
        });
        if (result instanceof RawReply) {
          reply.code(result.status).headers(result.headers);
          return reply.send(result.body);
        }
        reply.header('cache-control', 'no-store');
        reply.type('application/json; charset=utf-8');
        return reply.send(JSON.stringify(result ?? null));
      },
    });
  }

  private allowedMethods(path: string): string[] {
    const methods: string[] = [];
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      try {
        if (this.app.hasRoute({ method, url: path }) || this.app.findRoute({ method, url: path })) {
          methods.push(method);
        }
      } catch {
        // not a path the router can look up: then no method is allowed either
      }
    }
    return methods;
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await this.app.listen({ port, host });
    return this.app.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

function sendEnvelope(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const body = JSON.stringify({ error: { status, code, message, ...extra } });
  return reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

/** What the HTTP parser refused, as an envelope on the raw socket (the connection then closes). */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return rawErrorResponse(431, 'HEADERS_TOO_LARGE', 'request head too large');
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return rawErrorResponse(408, 'REQUEST_TIMEOUT', 'request not received in time');
  }
  return rawErrorResponse(400, 'BAD_REQUEST', 'malformed HTTP request');
}

function parseBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  if (bytes.length === 0) return {};
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new GatewayError('INVALID_JSON', 400, 'request body must be a JSON object');
  }
}
