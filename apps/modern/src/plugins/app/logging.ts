import { writeRequestLine } from '@pilot/service-kit';
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { plainParent } from './lazy-logger.ts';

const failures = new WeakMap<FastifyReply, unknown>();

/**
 * The error handler hands an unexpected error over here instead of logging it on its own, so
 * the request's one log line carries it (with the request and the stack), as legacy's does.
 */
export function logWithRequest(reply: FastifyReply, error: unknown): void {
  failures.set(reply, error);
}

/**
 * Request logs the way legacy writes them (pino-http): ONE line per answered request, labelled
 * `requestId`, at error for 5xx (with the error) and info otherwise; no "incoming request" line.
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const err = error ?? failures.get(reply);
    if (err || reply.statusCode >= 500) {
      const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
      reply.log.error(err ? { ...fields, err } : fields, 'request errored');
    } else if (
      (reply.log as FastifyBaseLogger & { isLevelEnabled(level: string): boolean }).isLevelEnabled('info')
    ) {
      // the line Fastify's serializers would make, written in one go (see writeRequestLine)
      const parent = plainParent(reply.log);
      const written =
        parent !== undefined &&
        writeRequestLine(parent, {
          requestId: request.id,
          req: {
            method: request.method,
            url: request.url,
            version: request.headers['accept-version'] as string | undefined,
            host: request.host,
            remoteAddress: request.ip,
            remotePort: request.socket?.remotePort,
          },
          statusCode: reply.statusCode,
          responseTime: reply.elapsedTime,
        });
      if (!written)
        reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
