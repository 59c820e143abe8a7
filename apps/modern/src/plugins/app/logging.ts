import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Request logs the way legacy writes them (pino-http): ONE line per answered request, labelled
 * `requestId`, at error for 5xx and info otherwise; no separate "incoming request" line.
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
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error || reply.statusCode >= 500)
      reply.log.error(error ? { ...fields, err: error } : fields, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}
